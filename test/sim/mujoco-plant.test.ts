import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Subscription, VirtualTimeScheduler, type SchedulerLike } from 'rxjs';
import { MpcdError } from '../../src/core/errors.js';
import type { Observation } from '../../src/io/plant.js';
import { createAnalytic } from '../../src/models/analytic/registry.js';
import { discretize } from '../../src/models/integrators.js';
import { loadMjcf } from '../../src/models/rigid-body/mujoco-runtime.js';
import { MujocoPlant, type MujocoPlantOptions } from '../../sim/mujoco-plant.js';
import type { StateSource } from '../../sim/state-map.js';

// dist/test/sim -> repository root
const modelsDir = fileURLToPath(new URL('../../../sim/models/', import.meta.url));
const cartpoleXml = join(modelsDir, 'cartpole.xml');
const pendulumXml = join(modelsDir, 'pendulum.xml');
const scratchDir = mkdtempSync(join(tmpdir(), 'mpcd-sim-test-'));
after(() => rmSync(scratchDir, { recursive: true, force: true }));

function writeXml(name: string, xml: string): string {
  const path = join(scratchDir, name);
  writeFileSync(path, xml);
  return path;
}

const cartpoleJoints: StateSource[] = [
  { name: 'x', joint: 'slider', field: 'qpos' },
  { name: 'theta', joint: 'hinge', field: 'qpos' },
  { name: 'x_dot', joint: 'slider', field: 'qvel' },
  { name: 'theta_dot', joint: 'hinge', field: 'qvel' },
];
const cartpoleSensors: StateSource[] = [
  { name: 'x', sensor: 'slider_pos' },
  { name: 'theta', sensor: 'hinge_pos' },
  { name: 'x_dot', sensor: 'slider_vel' },
  { name: 'theta_dot', sensor: 'hinge_vel' },
];
const pendulumJoints: StateSource[] = [
  { name: 'theta', joint: 'hinge', field: 'qpos' },
  { name: 'theta_dot', joint: 'hinge', field: 'qvel' },
];

function cartpolePlant(extra: Partial<MujocoPlantOptions> = {}): Promise<MujocoPlant> {
  return MujocoPlant.create({
    mjcfPath: cartpoleXml,
    state: cartpoleJoints,
    actions: [{ name: 'u', actuator: 'cart_force' }],
    controlPeriod: 0.02,
    mode: 'lockstep',
    ...extra,
  });
}

function record(plant: MujocoPlant): Observation[] {
  const seen: Observation[] = [];
  plant.observations$.subscribe((o) => seen.push(o));
  return seen;
}

async function rejects(promise: Promise<unknown>, code: string, ...fragments: string[]): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof MpcdError, `expected an MpcdError, got ${String(err)}`);
    assert.equal(err.code, code);
    for (const f of fragments) assert.ok(err.message.includes(f), `message lacks '${f}': ${err.message}`);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// The analytic models against an IDEAL MuJoCo model of the same physics: this checks the
// equations and the sign conventions (theta 0 upright, positive tips toward +x, force = gear*u).

/** Ideal = point-exact physics: explicit uniform-rod inertia, RK4, no friction, armature or contacts. */
const IDEAL_TIMESTEP = 0.0005;
const PERIOD = 0.01;
const SUBSTEPS = PERIOD / IDEAL_TIMESTEP; // the analytic RK4 uses the same step as MuJoCo's
const idealOption = `<option timestep="${IDEAL_TIMESTEP}" integrator="RK4" gravity="0 0 -9.81"><flag contact="disable"/></option>`;

interface CartpoleCase { cart_mass: number; pole_mass: number; pole_length: number; gear: number; cart_damping: number; pole_damping: number }

function idealCartpole(p: CartpoleCase): string {
  const I = (p.pole_mass * p.pole_length ** 2) / 12;
  return `<mujoco model="ideal-cartpole">${idealOption}<worldbody>
    <body name="cart"><joint name="slider" type="slide" axis="1 0 0" damping="${p.cart_damping}"/>
      <inertial pos="0 0 0" mass="${p.cart_mass}" diaginertia="0.01 0.01 0.01"/>
      <body name="pole"><joint name="hinge" type="hinge" axis="0 1 0" damping="${p.pole_damping}"/>
        <inertial pos="0 0 ${p.pole_length / 2}" mass="${p.pole_mass}" diaginertia="${I} ${I} 1e-6"/>
      </body></body></worldbody>
    <actuator><motor name="motor" joint="slider" gear="${p.gear}"/></actuator></mujoco>`;
}

function idealPendulum(p: { mass: number; length: number; gear: number; damping: number }): string {
  const I = (p.mass * p.length ** 2) / 12;
  return `<mujoco model="ideal-pendulum">${idealOption}<worldbody>
    <body name="rod"><joint name="hinge" type="hinge" axis="0 1 0" damping="${p.damping}"/>
      <inertial pos="0 0 ${p.length / 2}" mass="${p.mass}" diaginertia="${I} ${I} 1e-6"/>
    </body></worldbody>
    <actuator><motor name="motor" joint="hinge" gear="${p.gear}"/></actuator></mujoco>`;
}

/**
 * Runs MuJoCo and the analytic model open loop from the same state under the same actions and
 * returns the largest difference per state entry. Both integrate with RK4 at the same step, so
 * they differ only by rounding: the analytic model computes in float32 (relative 6e-8 per
 * operation, on values up to ~10, over 3000 sub-steps, amplified where the motion is unstable),
 * which measured at ~1e-5 here; a 1 % error in one physical parameter already gives 1e-2..1e-1.
 */
async function openLoopGap(
  xml: string,
  analytic: ReturnType<typeof createAnalytic>,
  state: StateSource[],
  initial: number[],
  seconds: number,
  action: (t: number) => number,
): Promise<number[]> {
  const plant = await MujocoPlant.create({
    mjcfPath: writeXml(`ideal-${state.length}.xml`, xml),
    state,
    actions: [{ name: 'u', actuator: 'motor' }],
    controlPeriod: PERIOD,
    mode: 'lockstep',
  });
  const model = discretize(analytic, 'rk4', SUBSTEPS, 1);
  const nx = initial.length;
  let s = Float32Array.from(initial);
  let next = new Float32Array(nx);
  const u = new Float32Array(1);
  const gap = new Array<number>(nx).fill(0);
  plant.reset(initial);
  for (let k = 0; k < Math.round(seconds / PERIOD); k++) {
    u[0] = action(k * PERIOD);
    plant.send(u);
    model.step(s, u, next, 1, PERIOD);
    [s, next] = [next, s];
    const real = plant.state();
    for (let i = 0; i < nx; i++) gap[i] = Math.max(gap[i]!, Math.abs(real[i]! - s[i]!));
  }
  await plant.close();
  return gap;
}

const REFERENCE_TOLERANCE = 1e-3;

describe('analytic models match MuJoCo (ideal MJCF)', () => {
  const push = (t: number): number => 0.8 * Math.sin(2 * Math.PI * 1.3 * t) - 0.3;

  it('cart-pole, default params', async () => {
    const p = { cart_mass: 1.0, pole_mass: 0.1, pole_length: 1.0, gear: 10, cart_damping: 0, pole_damping: 0 };
    const gap = await openLoopGap(idealCartpole(p), createAnalytic('cartpole', p), cartpoleJoints, [0.1, 0.3, -0.2, 0.5], 1.5, push);
    for (const g of gap) assert.ok(g < REFERENCE_TOLERANCE, `gaps ${gap.join(', ')}`);
  });

  it('cart-pole, other params with viscous damping', async () => {
    const p = { cart_mass: 0.7, pole_mass: 0.25, pole_length: 0.8, gear: 6, cart_damping: 0.3, pole_damping: 0.02 };
    const gap = await openLoopGap(idealCartpole(p), createAnalytic('cartpole', p), cartpoleJoints, [-0.2, -0.4, 0.3, -1.0], 1.5, push);
    for (const g of gap) assert.ok(g < REFERENCE_TOLERANCE, `gaps ${gap.join(', ')}`);
  });

  it('pendulum, default params and with damping', async () => {
    for (const p of [
      { mass: 1.0, length: 0.5, gear: 1, damping: 0 },
      { mass: 0.6, length: 0.7, gear: 2, damping: 0.05 },
    ]) {
      const gap = await openLoopGap(idealPendulum(p), createAnalytic('pendulum', p), pendulumJoints, [0.3, 1.0], 2, (t) => Math.cos(3 * t));
      for (const g of gap) assert.ok(g < REFERENCE_TOLERANCE, `${JSON.stringify(p)}: gaps ${gap.join(', ')}`);
    }
  });

  it('pendulum small-angle period is 2 pi sqrt(J / (m g l)), in the analytic model and in MuJoCo', async () => {
    const mass = 1.0;
    const length = 0.5;
    const expected = 2 * Math.PI * Math.sqrt((mass * length ** 2) / 3 / (mass * 9.81 * (length / 2)));
    const plant = await MujocoPlant.create({
      mjcfPath: writeXml('ideal-period.xml', idealPendulum({ mass, length, gear: 1, damping: 0 })),
      state: pendulumJoints,
      actions: [{ name: 'u', actuator: 'motor' }],
      controlPeriod: PERIOD,
      mode: 'lockstep',
    });
    const model = discretize(createAnalytic('pendulum', { mass, length }), 'rk4', SUBSTEPS, 1);
    // theta - pi = 0.01: the amplitude correction (1 + a^2/16) is 6e-6, below what is asserted.
    const initial = [Math.PI + 0.01, 0];
    plant.reset(initial);
    let s = Float32Array.from(initial);
    let next = new Float32Array(2);
    const u = new Float32Array(1);
    const crossings: { analytic: number[]; mujoco: number[] } = { analytic: [], mujoco: [] };
    let prevA = initial[0]! - Math.PI;
    let prevM = prevA;
    for (let k = 1; k <= Math.round(4 / PERIOD); k++) {
      plant.send(u);
      model.step(s, u, next, 1, PERIOD);
      [s, next] = [next, s];
      const a = s[0]! - Math.PI;
      const m = plant.state()[0]! - Math.PI;
      // Upward zero crossings, linearly interpolated within the period.
      if (prevA < 0 && a >= 0) crossings.analytic.push((k - 1 + -prevA / (a - prevA)) * PERIOD);
      if (prevM < 0 && m >= 0) crossings.mujoco.push((k - 1 + -prevM / (m - prevM)) * PERIOD);
      prevA = a;
      prevM = m;
    }
    await plant.close();
    for (const c of [crossings.analytic, crossings.mujoco]) {
      assert.ok(c.length >= 3, `only ${c.length} crossings`);
      const period = (c[c.length - 1]! - c[0]!) / (c.length - 1);
      assert.ok(Math.abs(period - expected) / expected < 1e-4, `period ${period} s, expected ${expected} s`);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('MujocoPlant, lockstep', () => {
  it('reset emits the initial state synchronously, at physics time 0', async () => {
    const plant = await cartpolePlant();
    const seen = record(plant);
    plant.reset([0.1, Math.PI, 0, 0.2]);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.channel, 'state');
    assert.equal(seen[0]!.stamp, 0);
    assert.deepEqual(Array.from(seen[0]!.values), [0.1, Math.PI, 0, 0.2]);
    assert.deepEqual(plant.channels, [{ name: 'state', slots: [0, 1, 2, 3] }]);
    assert.equal(plant.time, 0);
    await plant.close();
  });

  it('each send steps exactly one control period and emits one observation', async () => {
    const plant = await cartpolePlant();
    assert.equal(plant.substeps, 10);
    const seen = record(plant);
    plant.reset([0, 0.2, 0, 0]);
    const u = new Float32Array([0.5]);
    for (let k = 1; k <= 5; k++) {
      plant.send(u);
      assert.equal(seen.length, 1 + k);
      assert.ok(Math.abs(seen[k]!.stamp - k * 0.02) < 1e-12, `stamp ${seen[k]!.stamp}`);
      assert.deepEqual(Array.from(seen[k]!.values), Array.from(plant.state()));
    }
    // The values are copies: later steps do not change what was emitted.
    assert.notDeepEqual(Array.from(seen[1]!.values), Array.from(seen[5]!.values));
    await plant.close();
  });

  it('clamps the action to the ctrlrange as MuJoCo does', async () => {
    const over = await cartpolePlant();
    const atLimit = await cartpolePlant();
    over.reset([0, Math.PI, 0, 0]);
    atLimit.reset([0, Math.PI, 0, 0]);
    for (let k = 0; k < 10; k++) {
      over.send(new Float32Array([5]));
      atLimit.send(new Float32Array([1]));
    }
    assert.deepEqual(over.state(), atLimit.state());
    await over.close();
    await atLimit.close();
  });

  it('a sensor mapping reads the same values as the joint mapping', async () => {
    const both = await cartpolePlant({ state: [...cartpoleJoints, ...cartpoleSensors.map((s) => ({ ...s, name: `${s.name}_s` }))] });
    const sensorsOnly = await cartpolePlant({ state: cartpoleSensors });
    const initial = [0.2, 0.4, -0.1, 0.3];
    both.reset([...initial, ...initial]);
    sensorsOnly.reset(initial); // jointpos/jointvel sensors are set through their joint
    assert.deepEqual(Array.from(sensorsOnly.state()), initial);
    const u = new Float32Array(1);
    for (let k = 0; k < 25; k++) {
      u[0] = Math.sin(k / 4);
      both.send(u);
      sensorsOnly.send(u);
      const s = both.state();
      assert.deepEqual(Array.from(s.subarray(4)), Array.from(s.subarray(0, 4)));
      assert.deepEqual(Array.from(sensorsOnly.state()), Array.from(s.subarray(0, 4)));
    }
    await both.close();
    await sensorsOnly.close();
  });

  it('mapping errors name the missing joint, sensor or actuator and list what exists', async () => {
    await rejects(
      cartpolePlant({ state: [{ name: 'x', joint: 'slidr', field: 'qpos' }] }),
      'SIM_MAPPING',
      "'slidr'",
      'slider, hinge',
    );
    await rejects(cartpolePlant({ state: [{ name: 'x', sensor: 'cart_pos' }] }), 'SIM_MAPPING', "'cart_pos'", 'slider_pos, hinge_pos, slider_vel, hinge_vel');
    await rejects(cartpolePlant({ actions: [{ name: 'u', actuator: 'motor' }] }), 'SIM_MAPPING', "'motor'", 'cart_force');
  });

  it('a control period that is not a multiple of the timestep is an error naming the nearest multiple', async () => {
    await rejects(cartpolePlant({ controlPeriod: 0.015 }), 'SIM_PERIOD', '0.015', '0.002', '0.016 s');
    await rejects(cartpolePlant({ controlPeriod: 0.0211 }), 'SIM_PERIOD', '0.022 s');
  });

  it('a missing or rejected MJCF is an SIM_MJCF error naming the file and the reason', async () => {
    const missing = join(scratchDir, 'nope.xml');
    await rejects(loadMjcf(missing), 'SIM_MJCF', missing);
    const bad = writeXml('bad.xml', '<mujoco><worldbody><body><joint name="j"/><geom type="blob" size="1"/></body></worldbody></mujoco>');
    await rejects(loadMjcf(bad), 'SIM_MJCF', bad, 'blob');
    const badInclude = writeXml('bad-include.xml', '<mujoco><include file="absent.xml"/></mujoco>');
    await rejects(loadMjcf(badInclude), 'SIM_MJCF', badInclude, 'absent.xml');
    const unclosed = writeXml('unclosed.xml', '<mujoco><worldbody>');
    await rejects(loadMjcf(unclosed), 'SIM_MJCF', unclosed, 'XML');
  });

  it('close() completes the observable and frees the simulation', async () => {
    const plant = await cartpolePlant();
    let completed = false;
    plant.observations$.subscribe({ complete: () => (completed = true) });
    plant.reset([0, 0, 0, 0]);
    await plant.close();
    assert.ok(completed);
    plant.send(new Float32Array([1])); // ignored once closed
    assert.throws(() => plant.state(), (e: unknown) => e instanceof MpcdError && e.code === 'SIM_CLOSED');
    await plant.close(); // idempotent
  });
});

describe('MujocoPlant, free_running', () => {
  it('steps once per control period in virtual time, holding the last action', async () => {
    const scheduler = new VirtualTimeScheduler(undefined, 100); // ms
    const free = await cartpolePlant({ mode: 'free_running', scheduler });
    const seen: { at: number; obs: Observation }[] = [];
    free.observations$.subscribe((obs) => seen.push({ at: scheduler.now(), obs }));
    const initial = [0, 0.1, 0, 0];
    free.reset(initial);
    // One action mid-period at 30 ms; it is sampled when the period [20, 40) ms is computed at 40 ms.
    scheduler.schedule(() => free.send(new Float32Array([1])), 30);
    free.send(new Float32Array([0]));
    scheduler.flush();

    assert.deepEqual(seen.map((s) => s.at), [0, 20, 40, 60, 80, 100]);
    seen.forEach((s, k) => assert.ok(Math.abs(s.obs.stamp - 0.02 * k) < 1e-12, `stamp ${s.obs.stamp}`));

    // The same run in lockstep: 0 for the first period, then 1 held for the remaining four.
    const lock = await cartpolePlant();
    lock.reset(initial);
    const expected = [Array.from(lock.state())];
    for (const u of [0, 1, 1, 1, 1]) {
      lock.send(new Float32Array([u]));
      expected.push(Array.from(lock.state()));
    }
    assert.deepEqual(seen.map((s) => Array.from(s.obs.values)), expected);

    // close() stops the clock.
    let completed = false;
    free.observations$.subscribe({ complete: () => (completed = true) });
    await free.close();
    assert.ok(completed);
    scheduler.maxFrames = 1000;
    scheduler.flush();
    assert.equal(seen.length, 6);
    await lock.close();
  });

  it('schedules each period at an absolute time, catching up when late and giving up when far behind', async () => {
    // A clock whose timers fire exactly as late as the test says.
    const queue: { due: number; work: () => void }[] = [];
    let t = 0;
    const clock = {
      now: () => t,
      schedule(work: () => void, delay = 0) {
        const item = { due: t + delay, work };
        queue.push(item);
        return new Subscription(() => void queue.splice(queue.indexOf(item), 1));
      },
    } as unknown as SchedulerLike;
    const fireLate = (late: number): void => {
      assert.equal(queue.length, 1);
      const item = queue.shift()!;
      t = item.due + late;
      item.work();
    };
    const plant = await cartpolePlant({ mode: 'free_running', scheduler: clock });
    const stamps: number[] = [];
    plant.observations$.subscribe((o) => stamps.push(Math.round(o.stamp * 1000)));
    plant.reset([0, 0.1, 0, 0]); // restarts the clock at t = 0
    assert.deepEqual(queue.map((q) => q.due), [20]);
    fireLate(5); // at 25 ms: one period; the next is still due at 40, not 45
    assert.deepEqual(queue.map((q) => q.due), [40]);
    fireLate(30); // at 70 ms: periods due at 40 and 60
    assert.deepEqual(stamps, [0, 20, 40, 60]);
    assert.deepEqual(queue.map((q) => q.due), [80]);
    fireLate(300); // at 380 ms: catches up 10 periods (to 260 ms of physics), gives up the other 6
    assert.equal(stamps.length, 4 + 10);
    assert.equal(plant.skippedPeriods, 6);
    assert.deepEqual(queue.map((q) => q.due), [400]);
    await plant.close();
    assert.equal(queue.length, 0);
  });

  it('runs on the real clock by default', async () => {
    const plant = await cartpolePlant({ mode: 'free_running', controlPeriod: 0.01 });
    const seen = record(plant);
    plant.reset([0, 0, 0, 0]);
    await new Promise((r) => setTimeout(r, 120));
    await plant.close();
    // Loose: tests never assert wall-clock timing, only that it ran on its own and in order.
    assert.ok(seen.length >= 3, `${seen.length} observations`);
    for (let k = 1; k < seen.length; k++) assert.ok(seen[k]!.stamp > seen[k - 1]!.stamp);
  });
});

// ---------------------------------------------------------------------------------------------

describe('shipped MJCF models', () => {
  it('cartpole.xml has the documented names, a 2 ms step and a rail limit', async () => {
    const plant = await cartpolePlant({ state: [...cartpoleJoints, ...cartpoleSensors] });
    assert.equal(plant.timestep, 0.002);
    plant.reset([0, Math.PI, 0, 0, 0, Math.PI, 0, 0]);
    const push = new Float32Array([1]);
    let farthest = 0;
    for (let k = 0; k < 150; k++) {
      plant.send(push); // 3 s at full force
      farthest = Math.max(farthest, plant.state()[0]!);
    }
    const x = plant.state()[0]!;
    assert.ok(x > 1.7 && farthest < 1.9, `cart at ${x} m (farthest ${farthest} m), expected held at the 1.8 m rail limit`);
    await plant.close();
  });

  it('pendulum.xml has the documented names and cannot lift itself to horizontal directly', async () => {
    const plant = await MujocoPlant.create({
      mjcfPath: pendulumXml,
      state: [...pendulumJoints, { name: 'theta_s', sensor: 'hinge_pos' }, { name: 'theta_dot_s', sensor: 'hinge_vel' }],
      actions: [{ name: 'u', actuator: 'hinge_torque' }],
      controlPeriod: 0.02,
      mode: 'lockstep',
    });
    assert.equal(plant.timestep, 0.002);
    plant.reset([Math.PI, 0, Math.PI, 0]);
    let highest = 0; // angle away from hanging
    for (let k = 0; k < 150; k++) {
      plant.send(new Float32Array([1]));
      highest = Math.max(highest, Math.abs(plant.state()[0]! - Math.PI));
    }
    assert.ok(highest > 0.2 && highest < Math.PI / 2, `reached ${highest} rad from hanging`);
    await plant.close();
  });

  it('the shipped plants are not the analytic default models', async () => {
    const plant = await cartpolePlant({ controlPeriod: 0.01 });
    const model = discretize(createAnalytic('cartpole', {}), 'rk4', 5, 1);
    const initial = [0, 0.3, 0, 0];
    plant.reset(initial);
    let s = Float32Array.from(initial);
    let next = new Float32Array(4);
    const u = new Float32Array([0.3]);
    for (let k = 0; k < 50; k++) {
      plant.send(u);
      model.step(s, u, next, 1, 0.01);
      [s, next] = [next, s];
    }
    const gap = Math.abs(plant.state()[1]! - s[1]!);
    // Different enough to matter (residual learning has something to learn), not a different robot.
    assert.ok(gap > 0.02 && gap < 1.0, `theta gap after 0.5 s: ${gap} rad`);
    await plant.close();
  });
});
