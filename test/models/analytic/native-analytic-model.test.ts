import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { parseConfigText } from '../../../src/config/load-config.js';
import { Rng } from '../../../src/core/rng.js';
import { NativeAnalyticModel, nativeAnalyticModel, nativeRobotTable, type AnalyticModelInputs } from '../../../src/models/analytic/native-analytic-model.js';
import { createAnalytic, robotDescriptor, robots, type RobotName } from '../../../src/models/analytic/registry.js';
import type { AnyRobotDescriptor } from '../../../src/models/analytic/robot-descriptor.js';
import { buildAnalyticModel } from '../../../src/models/build-model.js';
import type { DynamicsModel } from '../../../src/models/dynamics.js';
import { discretize, type IntegratorKind } from '../../../src/models/integrators.js';
import type { NativeVectorKernels } from '../../../src/models/residual/native-vector-kernels.js';
import { kernelsOrSkip } from '../../native-kernels-or-skip.js';

/*
 * Parity of every registered robot (registry.ts) that has a native part: the native kernel
 * (float32 and exact) against the TypeScript model, and both against a float64 reference
 * integration of the descriptor's own derivatives. A new robot is tested by registering it.
 */

const DT = 0.02;
const STEPS = 30;
/** float32 arithmetic inside a step vs the TypeScript's double: a few ulps per step, grown over 30 steps. */
const FLOAT32_TOL = 2e-5;
/** exact mode rounds where the TypeScript rounds: equal but for an ulp of a double now and then. */
const EXACT_TOL = 1e-6;
/** float32 storage vs a float64 integration of the same equations, over 30 steps. */
const FLOAT64_TOL = 1e-3;

interface Case {
  robot: RobotName;
  params: Record<string, number>;
  integrator: IntegratorKind;
  substeps: number;
}

const nativeRobots: AnyRobotDescriptor[] = robots.filter((r) => r.native !== undefined);

/** For each robot: its defaults with both integrators; then a few robot-specific params. */
const CASES: Case[] = [
  ...nativeRobots.flatMap((r): Case[] => [
    { robot: r.name as RobotName, params: {}, integrator: 'rk4', substeps: 1 },
    { robot: r.name as RobotName, params: {}, integrator: 'semi_implicit_euler', substeps: 2 },
  ]),
  { robot: 'cartpole', params: { cart_damping: 0.3, pole_damping: 0.02, pole_inertia: 0.01, pole_mass: 0.4, gear: 7 }, integrator: 'rk4', substeps: 2 },
  { robot: 'cartpole', params: { cart_damping: 0.1, pole_damping: 0.05 }, integrator: 'semi_implicit_euler', substeps: 2 },
  { robot: 'pendulum', params: { damping: 0.2 }, integrator: 'semi_implicit_euler', substeps: 1 },
  { robot: 'pendulum', params: { mass: 2, length: 0.8, inertia: 0.6, gear: 3 }, integrator: 'rk4', substeps: 3 },
];

const name = (c: Case): string => `${c.robot} ${c.integrator} substeps ${c.substeps} ${JSON.stringify(c.params)}`;
const sizes = (c: Case): { nx: number; nu: number } => {
  const r = robotDescriptor(c.robot);
  return { nx: r.stateNames.length, nu: r.actionNames.length };
};

function typescriptModel(c: Case, maxBatch: number): DynamicsModel {
  return discretize(createAnalytic(c.robot, c.params), c.integrator, c.substeps, maxBatch);
}

function nativeModel(c: Case, maxBatch: number, kernels: NativeVectorKernels, exact: boolean): DynamicsModel {
  const inputs: AnalyticModelInputs = { robot: c.robot, params: c.params, integrator: c.integrator, substeps: c.substeps, maxBatch, exact };
  const model = nativeAnalyticModel(inputs, kernels);
  assert.ok(model !== undefined);
  return model;
}

/**
 * The float64 reference: the descriptor's derivatives (plain arithmetic on whatever array they
 * are handed) integrated in Float64Arrays, as integrators.ts integrates, never rounded to float32.
 */
function float64Model(c: Case, maxBatch: number): DynamicsModel {
  const robot = robotDescriptor(c.robot);
  const derivatives = robot.derivatives(robot.params.parse(c.params)) as unknown as (s: Float64Array, a: Float64Array, d: Float64Array, n: number) => void;
  const { nx, nu } = sizes(c);
  const nq = robot.nq;
  const [x, k1, k2, k3, k4, probe] = Array.from({ length: 6 }, () => new Float64Array(maxBatch * nx)) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const u = new Float64Array(maxBatch * nu);
  return {
    stateNames: robot.stateNames,
    actionNames: robot.actionNames,
    angular: robot.angular,
    maxBatch,
    step(states, actions, out, count, dt) {
      const n = count * nx;
      const h = dt / c.substeps;
      for (let i = 0; i < n; i++) x[i] = states[i]!;
      for (let i = 0; i < count * nu; i++) u[i] = actions[i]!;
      for (let s = 0; s < c.substeps; s++) {
        if (c.integrator === 'rk4') {
          derivatives(x, u, k1, count);
          for (let i = 0; i < n; i++) probe[i] = x[i]! + 0.5 * h * k1[i]!;
          derivatives(probe, u, k2, count);
          for (let i = 0; i < n; i++) probe[i] = x[i]! + 0.5 * h * k2[i]!;
          derivatives(probe, u, k3, count);
          for (let i = 0; i < n; i++) probe[i] = x[i]! + h * k3[i]!;
          derivatives(probe, u, k4, count);
          for (let i = 0; i < n; i++) x[i] = x[i]! + (h / 6) * (k1[i]! + 2 * k2[i]! + 2 * k3[i]! + k4[i]!);
        } else {
          derivatives(x, u, k1, count);
          for (let k = 0; k < count; k++) {
            for (let j = 0; j < nq; j++) {
              const o = k * nx;
              x[o + nq + j] = x[o + nq + j]! + h * k1[o + nq + j]!;
              x[o + j] = x[o + j]! + h * x[o + nq + j]!;
            }
          }
        }
      }
      for (let i = 0; i < n; i++) out[i] = x[i]!;
    },
  };
}

/** Typical states: angles within about a turn, other positions of a unit, velocities of a few units; actions in [-1, 1]. */
function randomBatch(rng: Rng, c: Case, count: number): { states: Float32Array; actions: Float32Array } {
  const robot = robotDescriptor(c.robot);
  const { nx, nu } = sizes(c);
  const scale = robot.angular.map((angle, i) => (i >= robot.nq ? 5 : angle ? 6 : 1));
  const states = Float32Array.from({ length: count * nx }, (_, i) => scale[i % nx]! * (2 * rng.uniform() - 1));
  const actions = Float32Array.from({ length: count * nu }, () => 2 * rng.uniform() - 1);
  return { states, actions };
}

/**
 * Steps both models from the same states for STEPS steps (each from its own previous output, or
 * with `restart` each from a's output, so that chaos does not grow a float32-vs-float64 gap);
 * the worst |a - b| / (1 + |b|) over all.
 */
function rollBoth(a: DynamicsModel, b: DynamicsModel, states: Float32Array, actions: Float32Array, count: number, restart = false): { worst: number; exactShare: number } {
  const nx = a.stateNames.length;
  let sa = states.slice();
  let sb = states.slice();
  let oa = new Float32Array(count * nx);
  let ob = new Float32Array(count * nx);
  let worst = 0;
  let exact = 0;
  for (let t = 0; t < STEPS; t++) {
    a.step(sa, actions, oa, count, DT);
    b.step(restart ? sa : sb, actions, ob, count, DT);
    for (let i = 0; i < count * nx; i++) {
      worst = Math.max(worst, Math.abs(oa[i]! - ob[i]!) / (1 + Math.abs(ob[i]!)));
      if (oa[i] === ob[i]) exact++;
    }
    [sa, oa] = [oa, sa];
    [sb, ob] = [ob, sb];
  }
  return { worst, exactShare: exact / (STEPS * count * nx) };
}

describe('robot descriptors', () => {
  it('every native robot is in the addon table with the descriptor\'s sizes and params', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const table = nativeRobotTable(kernels);
    for (const r of nativeRobots) {
      const entry = table.get(r.native!.kernel);
      assert.ok(entry !== undefined, `${r.name}: no native entry "${r.native!.kernel}"`);
      assert.equal(entry.nx, r.stateNames.length, r.name);
      assert.equal(entry.nu, r.actionNames.length, r.name);
      assert.deepEqual(entry.paramNames, r.native!.paramNames, r.name);
      assert.equal(r.native!.paramBlock(r.params.parse({})).length, entry.paramNames.length, r.name);
    }
  });
});

describe('native analytic models', () => {
  for (const c of CASES) {
    it(`${name(c)}: matches the TypeScript model over ${STEPS} steps (float32 and exact)`, (t) => {
      const kernels = kernelsOrSkip(t);
      if (kernels === undefined) return;
      const count = 203; // not a multiple of the 16-sample blocks
      const { states, actions } = randomBatch(new Rng(7), c, count);
      const ts = typescriptModel(c, count);
      const fast = rollBoth(nativeModel(c, count, kernels, false), ts, states, actions, count);
      assert.ok(fast.worst <= FLOAT32_TOL, `float32: worst relative difference ${fast.worst}`);
      const exact = rollBoth(nativeModel(c, count, kernels, true), ts, states, actions, count);
      assert.ok(exact.worst <= EXACT_TOL, `exact: worst relative difference ${exact.worst}`);
      assert.ok(exact.exactShare >= 0.999, `exact: only ${exact.exactShare} of the values are bit for bit`);
    });

    it(`${name(c)}: native and TypeScript steps match a float64 reference`, (t) => {
      const kernels = kernelsOrSkip(t);
      if (kernels === undefined) return;
      const count = 203;
      const { states, actions } = randomBatch(new Rng(9), c, count);
      const reference = float64Model(c, count);
      for (const [label, model] of [
        ['typescript', typescriptModel(c, count)],
        ['native float32', nativeModel(c, count, kernels, false)],
        ['native exact', nativeModel(c, count, kernels, true)],
      ] as const) {
        const { worst } = rollBoth(model, reference, states, actions, count, true);
        assert.ok(worst <= FLOAT64_TOL, `${label}: worst relative difference from float64 ${worst}`);
      }
    });
  }

  it('keeps the names and angular flags of the TypeScript model', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    for (const c of CASES) {
      const native = nativeModel(c, 8, kernels, false);
      const ts = typescriptModel(c, 8);
      assert.deepEqual(native.stateNames, ts.stateNames);
      assert.deepEqual(native.actionNames, ts.actionNames);
      assert.deepEqual(native.angular, ts.angular);
      assert.equal(native.maxBatch, 8);
    }
  });

  it('steps every batch size from 1 to 40 and writes nothing past count * nx', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    for (const c of CASES.slice(0, 2 * nativeRobots.length).filter((c) => c.integrator === 'rk4')) {
      const { nx } = sizes(c);
      const native = nativeModel(c, 64, kernels, true);
      const ts = typescriptModel(c, 64);
      const { states, actions } = randomBatch(new Rng(3), c, 40);
      for (let count = 1; count <= 40; count++) {
        const a = new Float32Array(count * nx + 5).fill(-7);
        const b = new Float32Array(count * nx);
        native.step(states, actions, a, count, DT);
        ts.step(states, actions, b, count, DT);
        for (let i = 0; i < count * nx; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= EXACT_TOL * (1 + Math.abs(b[i]!)), `${c.robot} count ${count}, [${i}]: ${a[i]} vs ${b[i]}`);
        assert.deepEqual([...a.subarray(count * nx)], [-7, -7, -7, -7, -7], `${c.robot} count ${count}`);
      }
    }
  });

  it('steps in place when out is states', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    for (const c of CASES.slice(0, 2 * nativeRobots.length)) {
      for (const exact of [false, true]) {
        const native = nativeModel(c, 64, kernels, exact);
        const { states, actions } = randomBatch(new Rng(5), c, 37);
        const separate = new Float32Array(states.length);
        native.step(states, actions, separate, 37, DT);
        const inPlace = states.slice();
        native.step(inPlace, actions, inPlace, 37, DT);
        assert.deepEqual(inPlace, separate, `${name(c)} exact=${exact}`);
      }
    }
  });

  it('gives NaN and Inf where the TypeScript model does: a diverged rollout stays non-finite', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const bad = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (const c of CASES) {
      const { nx } = sizes(c);
      // Each sample has one non-finite state; the rest are ordinary.
      const count = bad.length * nx;
      const { states, actions } = randomBatch(new Rng(11), c, count);
      for (let k = 0; k < count; k++) states[k * nx + (k % nx)] = bad[Math.floor(k / nx)]!;
      const ts = typescriptModel(c, count);
      const want = new Float32Array(count * nx);
      ts.step(states, actions, want, count, DT);
      for (const exact of [false, true]) {
        const got = new Float32Array(count * nx);
        nativeModel(c, count, kernels, exact).step(states, actions, got, count, DT);
        for (let k = 0; k < count; k++) {
          const row = got.subarray(k * nx, (k + 1) * nx);
          assert.ok(
            row.some((v) => !Number.isFinite(v)),
            `${name(c)} exact=${exact}: sample ${k} with ${states[k * nx + (k % nx)]} at ${k % nx} came out finite: ${row}`,
          );
        }
        for (let i = 0; i < count * nx; i++) {
          assert.equal(Number.isNaN(got[i]), Number.isNaN(want[i]), `${name(c)} exact=${exact}: [${i}] ${got[i]} vs ${want[i]}`);
          if (!Number.isFinite(want[i]!) && !Number.isNaN(want[i])) assert.equal(got[i], want[i], `${name(c)} exact=${exact}: [${i}]`);
        }
      }
    }
  });

  it('reduces huge angles exactly (the lanes past the fast reduction take the C library)', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const angles = [1e4, -3e5, 6e6, 1e9, -1e15, 3e20, 1e38];
    const count = angles.length;
    for (const c of CASES.slice(0, 2 * nativeRobots.length).filter((c) => c.integrator === 'rk4')) {
      const robot = robotDescriptor(c.robot);
      const { nx, nu } = sizes(c);
      const angle = robot.angular.indexOf(true);
      if (angle < 0) continue;
      const states = new Float32Array(count * nx);
      angles.forEach((a, k) => {
        for (let i = 0; i < nx; i++) states[k * nx + i] = i === angle ? a : i < robot.nq ? 0.1 : 0.5;
      });
      const actions = new Float32Array(count * nu).fill(0.3);
      const want = new Float32Array(count * nx);
      typescriptModel(c, count).step(states, actions, want, count, DT);
      for (const exact of [false, true]) {
        const got = new Float32Array(count * nx);
        nativeModel(c, count, kernels, exact).step(states, actions, got, count, DT);
        for (let i = 0; i < count * nx; i++) {
          const tol = exact ? EXACT_TOL : FLOAT32_TOL;
          assert.ok(Math.abs(got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!)), `${c.robot} exact=${exact} [${i}]: ${got[i]} vs ${want[i]}`);
        }
      }
    }
  });

  it('rejects bad arguments with TypeError or RangeError', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const cp = Float64Array.of(1.1, 0.0333, 0.05, 9.81, 0, 0, 10);
    const s = new Float32Array(16);
    const a = new Float32Array(4);
    const o = new Float32Array(16);
    const step = (...args: unknown[]): void => (kernels.analyticStep as (...x: unknown[]) => void)(...args);
    const cartpole = nativeRobotTable(kernels).get('cartpole')!.index;
    const robotCount = nativeRobotTable(kernels).size;
    // [robot, params, nx, nu, integrator, substeps, dt, states, actions, out, count]
    const ok: unknown[] = [cartpole, cp, 4, 1, 0, 1, DT, s, a, o, 4];
    step(...ok);
    const with_ = (i: number, v: unknown): unknown[] => ok.map((x, j) => (j === i ? v : x));
    const bad: [args: unknown[], error: RangeErrorConstructor | TypeErrorConstructor, message: RegExp][] = [
      [ok.slice(0, 10), TypeError, /expects 11 to 12 arguments/],
      [with_(0, robotCount), RangeError, /robot/],
      [with_(1, new Float32Array(7)), TypeError, /params must be a Float64Array/],
      [with_(1, cp.subarray(0, 6)), RangeError, /params.length is 6, but the cartpole needs 7 \(Mt,J,ml,g,bx,bth,gear\)/],
      [with_(1, Float64Array.of(1, 1, 1, Number.NaN, 0, 0, 1)), RangeError, /params\[3\] must be finite/],
      [with_(2, 2), RangeError, /the cartpole has nx 4 and nu 1, but nx 2 and nu 1/],
      [with_(3, 2), RangeError, /the cartpole has nx 4 and nu 1, but nx 4 and nu 2/],
      [with_(3, 0), RangeError, /nu/],
      [with_(4, 2), RangeError, /integrator/],
      [with_(5, 0), RangeError, /substeps/],
      [with_(5, 1.5), RangeError, /substeps/],
      [with_(6, Number.NaN), RangeError, /dt must be finite/],
      [with_(6, '0.02'), TypeError, /dt must be a number/],
      [[...with_(7, [1, 2, 3, 4]).slice(0, 10), 1], TypeError, /states must be a Float32Array/],
      [with_(10, 5), RangeError, /states too short/],
      [with_(8, new Float32Array(3)), RangeError, /actions too short/],
      [with_(9, new Float32Array(15)), RangeError, /out too short/],
      [with_(10, -1), RangeError, /count/],
      [[...with_(9, s.subarray(4)).slice(0, 10), 3], RangeError, /must not share memory/],
      [with_(8, o.subarray(0, 4)), RangeError, /must not share memory/],
      [[...ok, 'yes'], TypeError, /exact must be a boolean/],
    ];
    for (const [args, error, message] of bad) {
      assert.throws(() => step(...args), (err: unknown) => err instanceof error && message.test((err as Error).message), `${String(args.slice(0, 7))} ${message}`);
    }
  });
});

describe('buildAnalyticModel', () => {
  const config = parseConfigText(readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'config', 'cartpole-swingup.yaml'), 'utf8'), 'config/cartpole-swingup.yaml');

  it('steps natively where the addon loads, and in TypeScript with MPCD_NO_NATIVE=1', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const saved = process.env.MPCD_NO_NATIVE;
    try {
      delete process.env.MPCD_NO_NATIVE;
      assert.ok(buildAnalyticModel(config, 16) instanceof NativeAnalyticModel);
      process.env.MPCD_NO_NATIVE = '1';
      assert.ok(!(buildAnalyticModel(config, 16) instanceof NativeAnalyticModel));
      assert.equal(nativeAnalyticModel({ robot: 'cartpole', params: {}, integrator: 'rk4', substeps: 1, maxBatch: 4 }), undefined);
    } finally {
      if (saved === undefined) delete process.env.MPCD_NO_NATIVE;
      else process.env.MPCD_NO_NATIVE = saved;
    }
  });
});
