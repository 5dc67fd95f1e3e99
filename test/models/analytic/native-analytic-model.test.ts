import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { loadConfig } from '../../../src/config/load-config.js';
import { Rng } from '../../../src/core/rng.js';
import { cartpole, cartpoleParams } from '../../../src/models/analytic/cartpole.js';
import { NativeAnalyticModel, nativeAnalyticModel, type AnalyticModelInputs } from '../../../src/models/analytic/native-analytic-model.js';
import { pendulum, pendulumParams } from '../../../src/models/analytic/pendulum.js';
import type { RobotName } from '../../../src/models/analytic/registry.js';
import { buildAnalyticModel } from '../../../src/models/build-model.js';
import type { DynamicsModel } from '../../../src/models/dynamics.js';
import { discretize, type IntegratorKind } from '../../../src/models/integrators.js';
import type { NativeVectorKernels } from '../../../src/models/residual/native-vector-kernels.js';
import { kernelsOrSkip } from '../../native-kernels-or-skip.js';


const DT = 0.02;
const STEPS = 30;
/** float32 arithmetic inside a step vs the TypeScript's double: a few ulps per step, grown over 30 steps. */
const FLOAT32_TOL = 2e-5;
/** exact mode rounds where the TypeScript rounds: equal but for an ulp of a double now and then. */
const EXACT_TOL = 1e-6;

interface Case {
  robot: RobotName;
  params: Record<string, number>;
  integrator: IntegratorKind;
  substeps: number;
}

const CASES: Case[] = [
  { robot: 'cartpole', params: {}, integrator: 'rk4', substeps: 1 },
  { robot: 'cartpole', params: { cart_damping: 0.3, pole_damping: 0.02, pole_inertia: 0.01, pole_mass: 0.4, gear: 7 }, integrator: 'rk4', substeps: 2 },
  { robot: 'cartpole', params: { cart_damping: 0.1, pole_damping: 0.05 }, integrator: 'semi_implicit_euler', substeps: 2 },
  { robot: 'pendulum', params: { damping: 0.2 }, integrator: 'semi_implicit_euler', substeps: 1 },
  { robot: 'pendulum', params: { mass: 2, length: 0.8, inertia: 0.6, gear: 3 }, integrator: 'rk4', substeps: 3 },
];

const name = (c: Case): string => `${c.robot} ${c.integrator} substeps ${c.substeps} ${JSON.stringify(c.params)}`;

function typescriptModel(c: Case, maxBatch: number): DynamicsModel {
  const dynamics = c.robot === 'cartpole' ? cartpole(cartpoleParams.parse(c.params)) : pendulum(pendulumParams.parse(c.params));
  return discretize(dynamics, c.integrator, c.substeps, maxBatch);
}

function nativeModel(c: Case, maxBatch: number, kernels: NativeVectorKernels, exact: boolean): DynamicsModel {
  const inputs: AnalyticModelInputs = { robot: c.robot, params: c.params, integrator: c.integrator, substeps: c.substeps, maxBatch, exact };
  const model = nativeAnalyticModel(inputs, kernels);
  assert.ok(model !== undefined);
  return model;
}

/** Typical states: angles over a few turns, velocities of a few units; actions in [-1, 1]. */
function randomBatch(rng: Rng, nx: number, count: number): { states: Float32Array; actions: Float32Array } {
  const states = Float32Array.from({ length: count * nx }, (_, i) => {
    const u = 2 * rng.uniform() - 1;
    return nx === 4 ? [1, 6, 2, 5][i % 4]! * u : [6, 5][i % 2]! * u;
  });
  const actions = Float32Array.from({ length: count }, () => 2 * rng.uniform() - 1);
  return { states, actions };
}

/** Steps both models from the same states for STEPS steps; the worst |a - b| / (1 + |b|) over all. */
function rollBoth(a: DynamicsModel, b: DynamicsModel, states: Float32Array, actions: Float32Array, count: number): { worst: number; exactShare: number } {
  const nx = a.stateNames.length;
  let sa = states.slice();
  let sb = states.slice();
  let oa = new Float32Array(count * nx);
  let ob = new Float32Array(count * nx);
  let worst = 0;
  let exact = 0;
  for (let t = 0; t < STEPS; t++) {
    a.step(sa, actions, oa, count, DT);
    b.step(sb, actions, ob, count, DT);
    for (let i = 0; i < count * nx; i++) {
      worst = Math.max(worst, Math.abs(oa[i]! - ob[i]!) / (1 + Math.abs(ob[i]!)));
      if (oa[i] === ob[i]) exact++;
    }
    [sa, oa] = [oa, sa];
    [sb, ob] = [ob, sb];
  }
  return { worst, exactShare: exact / (STEPS * count * nx) };
}

describe('native analytic models', () => {
  for (const c of CASES) {
    it(`${name(c)}: matches the TypeScript model over ${STEPS} steps (float32 and exact)`, (t) => {
      const kernels = kernelsOrSkip(t);
      if (kernels === undefined) return;
      const count = 203; // not a multiple of the 16-sample blocks
      const nx = c.robot === 'cartpole' ? 4 : 2;
      const { states, actions } = randomBatch(new Rng(7), nx, count);
      const ts = typescriptModel(c, count);
      const fast = rollBoth(nativeModel(c, count, kernels, false), ts, states, actions, count);
      assert.ok(fast.worst <= FLOAT32_TOL, `float32: worst relative difference ${fast.worst}`);
      const exact = rollBoth(nativeModel(c, count, kernels, true), ts, states, actions, count);
      assert.ok(exact.worst <= EXACT_TOL, `exact: worst relative difference ${exact.worst}`);
      assert.ok(exact.exactShare >= 0.999, `exact: only ${exact.exactShare} of the values are bit for bit`);
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
    const c = CASES[1]!;
    const native = nativeModel(c, 64, kernels, true);
    const ts = typescriptModel(c, 64);
    const { states, actions } = randomBatch(new Rng(3), 4, 40);
    for (let count = 1; count <= 40; count++) {
      const a = new Float32Array(count * 4 + 5).fill(-7);
      const b = new Float32Array(count * 4);
      native.step(states, actions, a, count, DT);
      ts.step(states, actions, b, count, DT);
      for (let i = 0; i < count * 4; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= EXACT_TOL * (1 + Math.abs(b[i]!)), `count ${count}, [${i}]: ${a[i]} vs ${b[i]}`);
      assert.deepEqual([...a.subarray(count * 4)], [-7, -7, -7, -7, -7], `count ${count}`);
    }
  });

  it('steps in place when out is states', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    for (const exact of [false, true]) {
      const native = nativeModel(CASES[0]!, 64, kernels, exact);
      const { states, actions } = randomBatch(new Rng(5), 4, 37);
      const separate = new Float32Array(states.length);
      native.step(states, actions, separate, 37, DT);
      const inPlace = states.slice();
      native.step(inPlace, actions, inPlace, 37, DT);
      assert.deepEqual(inPlace, separate);
    }
  });

  it('gives NaN and Inf where the TypeScript model does: a diverged rollout stays non-finite', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const bad = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (const c of CASES) {
      const nx = c.robot === 'cartpole' ? 4 : 2;
      // Each sample has one non-finite state; the rest are ordinary.
      const count = bad.length * nx;
      const { states, actions } = randomBatch(new Rng(11), nx, count);
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
    const states = new Float32Array(count * 4);
    angles.forEach((a, k) => states.set([0.1, a, 0.5, -1], k * 4));
    const actions = new Float32Array(count).fill(0.3);
    const c = CASES[0]!;
    const want = new Float32Array(count * 4);
    typescriptModel(c, count).step(states, actions, want, count, DT);
    for (const exact of [false, true]) {
      const got = new Float32Array(count * 4);
      nativeModel(c, count, kernels, exact).step(states, actions, got, count, DT);
      for (let i = 0; i < count * 4; i++) {
        const tol = exact ? EXACT_TOL : FLOAT32_TOL;
        assert.ok(Math.abs(got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!)), `exact=${exact} [${i}]: ${got[i]} vs ${want[i]}`);
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
    const ok: unknown[] = [0, cp, 0, 1, DT, s, a, o, 4];
    step(...ok);
    const bad: [args: unknown[], error: RangeErrorConstructor | TypeErrorConstructor, message: RegExp][] = [
      [ok.slice(0, 8), TypeError, /expects 9 to 10 arguments/],
      [[2, ...ok.slice(1)], RangeError, /robot/],
      [[0, new Float32Array(7), ...ok.slice(2)], TypeError, /params must be a Float64Array/],
      [[0, cp.subarray(0, 6), ...ok.slice(2)], RangeError, /params.length is 6/],
      [[0, Float64Array.of(1, 1, 1, Number.NaN, 0, 0, 1), ...ok.slice(2)], RangeError, /params\[3\] must be finite/],
      [[0, cp, 2, ...ok.slice(3)], RangeError, /integrator/],
      [[0, cp, 0, 0, ...ok.slice(4)], RangeError, /substeps/],
      [[0, cp, 0, 1.5, ...ok.slice(4)], RangeError, /substeps/],
      [[0, cp, 0, 1, Number.NaN, ...ok.slice(5)], RangeError, /dt must be finite/],
      [[0, cp, 0, 1, '0.02', ...ok.slice(5)], TypeError, /dt must be a number/],
      [[...ok.slice(0, 5), [1, 2, 3, 4], a, o, 1], TypeError, /states must be a Float32Array/],
      [[...ok.slice(0, 8), 5], RangeError, /states too short/],
      [[...ok.slice(0, 6), new Float32Array(3), o, 4], RangeError, /actions too short/],
      [[...ok.slice(0, 7), new Float32Array(15), 4], RangeError, /out too short/],
      [[...ok.slice(0, 8), -1], RangeError, /count/],
      [[...ok.slice(0, 7), s.subarray(4), 3], RangeError, /must not share memory/],
      [[...ok.slice(0, 6), o.subarray(0, 4), o, 4], RangeError, /must not share memory/],
      [[...ok, 'yes'], TypeError, /exact must be a boolean/],
    ];
    for (const [args, error, message] of bad) {
      assert.throws(() => step(...args), (err: unknown) => err instanceof error && message.test((err as Error).message), `${String(args.slice(0, 5))}`);
    }
  });
});

describe('buildAnalyticModel', () => {
  const config = loadConfig(join(import.meta.dirname, '..', '..', '..', '..', 'config', 'cartpole-swingup.yaml')).config;

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
