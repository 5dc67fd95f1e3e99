import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';

import { parseConfigText } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';
import { buildTaskCost } from '../../src/costs/build-task-cost.js';
import { buildModel } from '../../src/models/build-model.js';
import { HybridModel } from '../../src/models/hybrid-model.js';
import { snapshotArrays, type EnsembleSnapshot } from '../../src/models/residual/ensemble-snapshot.js';
import { plannerKernel } from '../../src/models/residual/planner-kernel.js';
import { prepareResidualKernel } from '../../src/models/residual/prepare-kernel.js';
import { randomSnapshot } from '../../src/models/residual/random-snapshot.js';
import { ResidualPredictor } from '../../src/models/residual/residual-predictor.js';
import type { ResidualSpec } from '../../src/models/residual/residual-spec.js';
import { ValuePredictor } from '../../src/models/value/value-predictor.js';
import { valueArrays, type ValueSnapshot } from '../../src/models/value/value-snapshot.js';
import { buildPlanner, plannerOn } from '../../src/planning/build-planner.js';
import { buildRolloutEngine } from '../../src/planning/build-rollout-engine.js';
import { ParallelRolloutEngine } from '../../src/planning/parallel-rollout.js';
import type { RolloutEvaluator } from '../../src/planning/rollout-evaluator.js';
import { testValueSnapshot } from '../models/value/value-fixtures.js';
import { ReferenceEvaluator, referenceRolloutCosts, type ReferenceLearnedParts } from './reference-rollout.js';

/*
 * Every rollout engine, on every model and MLP kernel, against the plain float64 reference of
 * reference-rollout.ts; and both planners run on the parallel engine against the same planners
 * run on the reference.
 *
 * Tolerance. The engines keep states, actions and costs in float32 (unit roundoff 6e-8) and the
 * MLP kernels compute in float32 (FMA, other summation orders). Per step that is a relative error
 * of a few 1e-7 in the state; from near the hanging state the pole is a stable pendulum, so over
 * H = 30 steps these errors add up rather than grow exponentially, and the float32 sum of ~31
 * cost terms adds up to ~31 * 6e-8 ~ 2e-6. Measured here: at most 6e-7 relative on every model,
 * engine and kernel. A relative 1e-4 leaves a margin of >100x over that while staying well below
 * what a real mistake changes (a wrong ensemble member, a stale residual, a missing penalty or
 * value: each asserted below to move the median sample's cost by more than 10x the tolerance).
 * The absolute floor covers costs near zero, where a relative bound means nothing: 1e-3 against
 * per-sample totals of O(100).
 */
const REL_TOL = 1e-4;
const ABS_TOL = 1e-3;
/** A difference that a real mistake makes, in units of the tolerance, to show a check is sensitive. */
const SENSITIVITY = 10;

const MAX_SAMPLES = 1024;
const UNEVEN_COUNT = 777; // of 1024: splits 389 + 388 and 259 x 3, and straddles the member blocks of ceil(777 / E)
const H = 30;
const DT = 0.02;
const cartpoleStart = Float32Array.from([0.05, 3.0, 0, 0.1]); // hanging, slightly off
const pendulumStart = Float32Array.from([3.0, 0.1]);

type Kernel = 'auto' | 'native' | 'tfjs' | 'typescript';

interface ResidualSetup {
  elites: number;
  kernel?: Kernel;
  uncertaintyWeight?: number;
}

interface ConfigSetup {
  robot?: 'cartpole' | 'pendulum';
  integrator?: 'rk4' | 'semi_implicit_euler';
  substeps?: number;
  residual?: ResidualSetup;
  /** learning.value.weight; the value is enabled when given. */
  valueWeight?: number;
  /** The planner section (YAML flow mapping); an MPPI of MAX_SAMPLES by default. */
  planner?: string;
}

const defaultPlanner = `{ kind: mppi, threads: 1, samples: ${MAX_SAMPLES}, horizon: ${H}, iterations: 1, temperature: 1, noise_std: { u: 0.6 }, noise_smoothing: 0 }`;

/**
 * The cart-pole task uses every kind of cost term (an expression with a param and wrap(), a
 * wrapped angular quadratic, effort, soft bounds), each with a terminal weight where it has one.
 */
const cartpoleTask = `
task:
  params: { theta_goal: 0 }
  cost:
    - { kind: expression, expr: "10*(1 - cos(theta - theta_goal)) + 1*x^2 + 0.1*x_dot^2 + 0.01*theta_dot^2 + 0.5*square(wrap(theta))", terminal_weight: 5 }
    - { kind: quadratic, target: { theta: 3.1, x: 0.1 }, weights: { theta: 0.5, x: 0.2 }, weight: 0.3, terminal_weight: 2 }
    - { kind: effort, weights: { u: 0.05 } }
    - { kind: state_bounds, bounds: { x: [-0.2, 0.2] }, weight: 20, terminal_weight: 10 }
  success: { expr: "abs(wrap(theta)) < 0.2" }
plant:
  kind: sim
  mjcf: unused.xml
  state: [{ name: x, joint: slider, field: qpos }, { name: theta, joint: hinge, field: qpos }, { name: x_dot, joint: slider, field: qvel }, { name: theta_dot, joint: hinge, field: qvel }]
  actions: [{ name: u, actuator: cart_force }]
`;

const pendulumTask = `
task:
  cost:
    - { kind: expression, expr: "10*(1 - cos(theta)) + 0.05*theta_dot^2 + 0.2*u^2", terminal_weight: 5 }
  success: { expr: "abs(wrap(theta)) < 0.2" }
plant:
  kind: sim
  mjcf: unused.xml
  state: [{ name: theta, sensor: hinge_pos }, { name: theta_dot, sensor: hinge_vel }]
  actions: [{ name: u, actuator: hinge_torque }]
`;

function makeConfig(s: ConfigSetup = {}): Config {
  const robot = s.robot ?? 'cartpole';
  const r = s.residual;
  const residual =
    r === undefined
      ? ''
      : `, residual: { members: 5, elites: ${r.elites}, hidden: [64, 64], backend: wasm, kernel: ${r.kernel ?? 'auto'}, uncertainty_weight: ${r.uncertaintyWeight ?? 0} }`;
  const learning = s.valueWeight === undefined ? '' : `learning: { value: { enabled: true, weight: ${s.valueWeight} } }\n`;
  const text = `
name: engine-vs-reference
seed: 3
model: { robot: ${robot}, integrator: ${s.integrator ?? 'rk4'}, substeps: ${s.substeps ?? 1}${residual} }
control: { period: ${DT}, action_bounds: { u: [-1, 1] } }
planner: ${s.planner ?? defaultPlanner}
${learning}${robot === 'cartpole' ? cartpoleTask : pendulumTask}`;
  return parseConfigText(text, 'engine-vs-reference');
}

/** The spec of the config's residual ensemble. */
function residualSpec(config: Config): ResidualSpec {
  const r = config.model.residual;
  assert.ok(r !== undefined);
  const model = buildModel(config, 1);
  return { stateNames: model.stateNames, actionNames: model.actionNames, angular: model.angular, hidden: r.hidden, members: r.members };
}

/**
 * A seeded ensemble with the config's elites, in a scrambled order (best-first is not index
 * order), so mixing up elite positions and member indices shows. outputScale 0.03 gives
 * residuals of a few 0.01 per step: enough to move the costs, small enough to stay near the analytic.
 */
function ensemble(config: Config, seed: number): EnsembleSnapshot {
  const s = randomSnapshot(residualSpec(config), new Rng(seed), 0.03);
  const scrambled = [3, 0, 4, 1, 2].slice(0, config.model.residual!.elites);
  return { ...s, elites: scrambled };
}

function cartpoleValue(seed: number): ValueSnapshot {
  return testValueSnapshot(seed, [16, 8], undefined, undefined, 2);
}

/** Moderate random sequences [H, MAX_SAMPLES, nu]: N(0, 0.6) clamped to the bounds. */
function fillActions(actions: Float32Array, seed: number): void {
  const rng = new Rng(seed);
  for (let i = 0; i < actions.length; i++) actions[i] = Math.max(-1, Math.min(1, 0.6 * rng.normal()));
}

type EngineKind = { kind: 'single' } | { kind: 'parallel'; threads: number };
const engineName = (e: EngineKind): string => (e.kind === 'single' ? 'RolloutEngine' : `ParallelRolloutEngine(threads ${e.threads})`);

/** An engine as the daemon builds it, with this thread's kernel chosen from the config first. */
interface EngineUnderTest {
  engine: RolloutEvaluator;
  model: ReturnType<typeof buildModel>;
  install(parts: ReferenceLearnedParts, version: number): void;
}

async function buildEngine(config: Config, which: EngineKind): Promise<EngineUnderTest> {
  await prepareResidualKernel(config); // this thread's kernel; each worker selects its own from the same config
  const model = buildModel(config, MAX_SAMPLES);
  const cost = buildTaskCost(config, model);
  const engine =
    which.kind === 'single'
      ? buildRolloutEngine(config, model, cost, MAX_SAMPLES, new Float32Array(H * MAX_SAMPLES * model.actionNames.length))
      : new ParallelRolloutEngine(config, model, cost, MAX_SAMPLES, which.threads);
  const install = (parts: ReferenceLearnedParts, version: number): void => {
    assert.ok(model instanceof HybridModel);
    model.setResidual(parts.residual === undefined ? undefined : new ResidualPredictor(parts.residual, MAX_SAMPLES), version);
    model.setValue(parts.value === undefined ? undefined : new ValuePredictor(parts.value, MAX_SAMPLES));
  };
  return { engine, model, install };
}

function dispose(e: EngineUnderTest): void {
  e.engine.dispose();
  if (e.model instanceof HybridModel) {
    e.model.setResidual(undefined, 0);
    e.model.setValue(undefined);
  }
}

/** |a - b| <= REL_TOL |b| + ABS_TOL for every sample; reports the worst relative error seen. */
function assertCostsClose(t: TestContext, actual: Float32Array, expected: ArrayLike<number>, count: number, what: string): void {
  let worst = 0;
  for (let k = 0; k < count; k++) {
    const a = actual[k]!;
    const b = expected[k]!;
    if (!(Math.abs(a - b) <= REL_TOL * Math.abs(b) + ABS_TOL)) assert.fail(`${what}: sample ${k} costs ${a}, the reference ${b} (relative ${Math.abs(a - b) / Math.abs(b)})`);
    worst = Math.max(worst, Math.abs(a - b) / Math.max(Math.abs(b), 1e-30));
  }
  t.diagnostic(`${what}: worst relative error ${worst.toExponential(2)} over ${count} samples`);
}

/**
 * Shows that `changed` (a model the engine must not be using) moves the costs of most samples by
 * more than SENSITIVITY times the tolerance, so the comparison above could tell them apart.
 */
function assertSensitive(t: TestContext, base: ArrayLike<number>, changed: ArrayLike<number>, count: number, what: string): void {
  const ratios = Array.from({ length: count }, (_, k) => Math.abs(changed[k]! - base[k]!) / (REL_TOL * Math.abs(base[k]!) + ABS_TOL)).sort((a, b) => a - b);
  const median = ratios[Math.floor(count / 2)]!;
  t.diagnostic(`${what} moves the median sample's cost by ${median.toFixed(1)}x the tolerance`);
  assert.ok(median > SENSITIVITY, `${what} moves the median sample's cost by only ${median.toFixed(1)}x the tolerance: the comparison could not tell`);
}

/** FNV-1a over the bits of float32 arrays and a string: a fingerprint of the reference's inputs. */
function fingerprint(text: string, arrays: readonly Float32Array[]): string {
  let h = 0x811c9dc5;
  const mix = (v: number): void => {
    h = Math.imul(h ^ v, 0x01000193) >>> 0;
  };
  for (let i = 0; i < text.length; i++) mix(text.charCodeAt(i));
  for (const a of arrays) {
    mix(a.length);
    for (const bits of new Uint32Array(a.buffer, a.byteOffset, a.length)) mix(bits);
  }
  return `${h.toString(16)}:${text.length}`;
}

/**
 * The reference's costs, remembered by a fingerprint of everything they depend on: the engines
 * and kernels are compared on the same inputs, and the float64 reference is the slow part.
 */
const referenceMemo = new Map<string, Float64Array>();
function referenceCosts(config: Config, x0: Float32Array, actions: Float32Array, count: number, parts: ReferenceLearnedParts): Float64Array {
  const r = config.model.residual;
  const what = JSON.stringify({
    model: { ...config.model, residual: r === undefined ? undefined : { ...r, kernel: undefined, backend: undefined } },
    control: config.control,
    horizon: config.planner.horizon,
    task: config.task,
    value: config.learning.value,
    elites: parts.residual?.elites,
    count,
  });
  const arrays = [x0, actions, ...(parts.residual === undefined ? [] : snapshotArrays(parts.residual)), ...(parts.value === undefined ? [] : valueArrays(parts.value))];
  const key = fingerprint(`${what}|${parts.residual !== undefined}|${parts.value !== undefined}`, arrays);
  let costs = referenceMemo.get(key);
  if (costs === undefined) {
    costs = referenceRolloutCosts(config, x0, actions, MAX_SAMPLES, count, parts);
    referenceMemo.set(key, costs);
  }
  return costs;
}

/** Prices the same sequences on the engine and on the reference; returns the reference's costs. */
function compare(t: TestContext, e: EngineUnderTest, config: Config, x0: Float32Array, count: number, parts: ReferenceLearnedParts, what: string): Float64Array {
  const costs = new Float32Array(MAX_SAMPLES).fill(Number.NaN);
  e.engine.evaluate(x0, count, costs);
  const expected = referenceCosts(config, x0, e.engine.actions, count, parts);
  assertCostsClose(t, costs, expected, count, what);
  return expected;
}

describe('every model: the single-threaded and a 3-thread engine equal the reference', () => {
  interface ModelCase {
    name: string;
    config: () => Config;
    x0: Float32Array;
    parts?: (config: Config) => ReferenceLearnedParts;
    /** A variant of the model the comparison must be able to tell apart (residual, member split, penalty...). */
    sensitivity?: (t: TestContext, config: Config, parts: ReferenceLearnedParts, actions: Float32Array, count: number, expected: Float64Array) => void;
  }
  const analyticOf = (actions: Float32Array, count: number): Float64Array => referenceCosts(makeConfig({}), cartpoleStart, actions, count, {});
  const cases: ModelCase[] = [
    { name: 'cart-pole, analytic, RK4', config: () => makeConfig({}), x0: cartpoleStart },
    { name: 'pendulum, analytic, semi-implicit Euler with 2 substeps', config: () => makeConfig({ robot: 'pendulum', integrator: 'semi_implicit_euler', substeps: 2 }), x0: pendulumStart },
    {
      name: 'cart-pole hybrid, 5 elites of 5',
      config: () => makeConfig({ residual: { elites: 5 } }),
      x0: cartpoleStart,
      parts: (c) => ({ residual: ensemble(c, 11) }),
      sensitivity: (t, c, parts, actions, count, expected) => {
        assertSensitive(t, expected, analyticOf(actions, count), count, 'the residual');
        const shifted = { ...parts.residual!, elites: [...parts.residual!.elites.slice(1), parts.residual!.elites[0]!] };
        assertSensitive(t, expected, referenceCosts(c, cartpoleStart, actions, count, { residual: shifted }), count, 'another member split');
      },
    },
    {
      name: 'cart-pole hybrid, 4 elites of 5',
      config: () => makeConfig({ residual: { elites: 4 } }),
      x0: cartpoleStart,
      parts: (c) => ({ residual: ensemble(c, 12) }),
      sensitivity: (t, c, parts, actions, count, expected) => {
        // Every block of samples on another elite: what a share pricing with the wrong indices would see.
        const rotated = { ...parts.residual!, elites: [...parts.residual!.elites.slice(1), parts.residual!.elites[0]!] };
        assertSensitive(t, expected, referenceCosts(c, cartpoleStart, actions, count, { residual: rotated }), count, 'another member split');
      },
    },
    {
      name: 'cart-pole hybrid with the uncertainty penalty',
      config: () => makeConfig({ residual: { elites: 4, uncertaintyWeight: 2000 } }),
      x0: cartpoleStart,
      parts: (c) => ({ residual: ensemble(c, 13) }),
      sensitivity: (t, c, parts, actions, count, expected) => {
        const without = makeConfig({ residual: { elites: 4 } });
        assertSensitive(t, expected, referenceCosts(without, cartpoleStart, actions, count, parts), count, 'the uncertainty penalty');
      },
    },
    {
      name: 'cart-pole hybrid with a terminal value',
      config: () => makeConfig({ residual: { elites: 5 }, valueWeight: 3 }),
      x0: cartpoleStart,
      parts: (c) => ({ residual: ensemble(c, 14), value: cartpoleValue(21) }),
      sensitivity: (t, c, parts, actions, count, expected) => {
        assertSensitive(t, expected, referenceCosts(c, cartpoleStart, actions, count, { residual: parts.residual }), count, 'the terminal value');
      },
    },
  ];
  for (const mc of cases) {
    for (const which of [{ kind: 'single' }, { kind: 'parallel', threads: 3 }] as const) {
      test(`${mc.name}: ${engineName(which)}`, async (t) => {
        const config = mc.config();
        const e = await buildEngine(config, which);
        try {
          const parts = mc.parts?.(config) ?? {};
          if (mc.parts !== undefined) e.install(parts, 1);
          fillActions(e.engine.actions, 5);
          for (const count of [MAX_SAMPLES, UNEVEN_COUNT]) {
            const expected = compare(t, e, config, mc.x0, count, parts, `${mc.name}, ${count} samples`);
            if (which.kind === 'single' && count === MAX_SAMPLES) mc.sensitivity?.(t, config, parts, e.engine.actions, count, expected);
          }
        } finally {
          dispose(e);
        }
      });
    }
  }
});

describe('every engine: shares keep their sample indices and workers follow a new residual', () => {
  const engines: EngineKind[] = [{ kind: 'single' }, { kind: 'parallel', threads: 2 }, { kind: 'parallel', threads: 3 }];
  for (const which of engines) {
    test(`${engineName(which)}: full and uneven counts, then a swapped residual and value`, async (t) => {
      const config = makeConfig({ residual: { elites: 4, uncertaintyWeight: 500 }, valueWeight: 2 });
      const e = await buildEngine(config, which);
      try {
        const first: ReferenceLearnedParts = { residual: ensemble(config, 31), value: cartpoleValue(41) };
        e.install(first, 1);
        fillActions(e.engine.actions, 6);
        for (const count of [MAX_SAMPLES, UNEVEN_COUNT]) compare(t, e, config, cartpoleStart, count, first, `version 1, ${count} samples`);

        // A refit: new predictors in the planner's model, version + 1; the workers must price with them too.
        const second: ReferenceLearnedParts = { residual: ensemble(config, 32), value: cartpoleValue(42) };
        e.install(second, 2);
        for (const count of [UNEVEN_COUNT, MAX_SAMPLES]) {
          const expected = compare(t, e, config, cartpoleStart, count, second, `version 2, ${count} samples`);
          const stale = referenceCosts(config, cartpoleStart, e.engine.actions, count, first);
          assertSensitive(t, expected, stale, count, 'the swap');
        }
      } finally {
        dispose(e);
      }
    });
  }
});

test('a diverged sample costs 3.4e38 on every engine and leaves the others alone', async (t) => {
  const config = makeConfig({ residual: { elites: 4 } });
  for (const which of [{ kind: 'single' }, { kind: 'parallel', threads: 3 }] as const) {
    const e = await buildEngine(config, which);
    try {
      const parts: ReferenceLearnedParts = { residual: ensemble(config, 91) };
      e.install(parts, 1);
      fillActions(e.engine.actions, 8);
      // A NaN action in a sample of the first share and in one of the last (a worker's, on 3 threads).
      const poisoned = [5, 900];
      for (const k of poisoned) e.engine.actions[3 * MAX_SAMPLES + k] = Number.NaN;
      const costs = new Float32Array(MAX_SAMPLES);
      e.engine.evaluate(cartpoleStart, MAX_SAMPLES, costs);
      for (const k of poisoned) assert.equal(costs[k], Math.fround(3.4e38), `${engineName(which)}: sample ${k}`);
      assertCostsClose(t, costs, referenceCosts(config, cartpoleStart, e.engine.actions, MAX_SAMPLES, parts), MAX_SAMPLES, `${engineName(which)} with diverged samples`);
    } finally {
      dispose(e);
    }
  }
});

describe('every MLP kernel, selected by each thread from model.residual.kernel', () => {
  const expectedName: Record<Exclude<Kernel, 'auto'>, RegExp> = { native: /^native-/, typescript: /^typescript$/, tfjs: /^tfjs-wasm$/ };
  for (const kernel of ['native', 'typescript', 'tfjs'] as const) {
    test(`${kernel}: a 3-thread engine equals the reference`, async (t) => {
      // backend: wasm, so the tfjs kernel runs on selectTfBackend('wasm') in this thread and in each worker.
      const config = makeConfig({ residual: { elites: 4, kernel, uncertaintyWeight: 500 }, valueWeight: 2 });
      const e = await buildEngine(config, { kind: 'parallel', threads: 3 });
      try {
        assert.match(plannerKernel().name, expectedName[kernel], "this thread's kernel");
        const parts: ReferenceLearnedParts = { residual: ensemble(config, 51), value: cartpoleValue(61) };
        e.install(parts, 1);
        fillActions(e.engine.actions, 7);
        for (const count of [MAX_SAMPLES, UNEVEN_COUNT]) compare(t, e, config, cartpoleStart, count, parts, `${kernel} kernel, ${count} samples`);
      } finally {
        dispose(e);
      }
    });
  }
});

describe('every planner: the same seed plans the same on the parallel engine and on the reference', () => {
  const PLAN_SAMPLES = 301; // uneven over 3 threads and over 4 elites
  /**
   * Plans are averages (MPPI) or picks (iCEM) of the sampled sequences, which are identical on
   * both sides as long as the plans they were drawn around are. MPPI's weights
   * exp(-(S_k - min S) / lambda) move by a factor (1 + e_k) with |e_k| <= 2 max|dS| / lambda under
   * cost errors dS, which moves the plan by at most that times max|u_k - plan| <= 2 (bounds
   * [-1, 1]). With the measured cost errors (<= 6e-7 relative, ~5e-4 on costs of ~850) and
   * lambda = 1 that is <= 2e-3; typical errors cancel and the plans differ by ~1e-4. iCEM
   * executes one sampled sequence, identical unless a near-tie flips the order. This bound is
   * tighter than the cost tolerance alone would give: a plan check failing while the cost checks
   * pass means the cost errors grew far beyond what float32 explains.
   */
  const PLAN_TOL = 2e-3;
  const planners = {
    mppi: `{ kind: mppi, threads: 3, samples: ${PLAN_SAMPLES}, horizon: ${H}, iterations: 2, temperature: 1, noise_std: { u: 0.6 }, noise_smoothing: 0.5 }`,
    cem:
      `{ kind: cem, threads: 3, samples: ${PLAN_SAMPLES}, horizon: ${H}, iterations: 3, elite_fraction: 0.1, keep_elites: 0.3, ` +
      'population_decay: 1.5, beta: 2, init_std: { u: 0.6 }, momentum: 0.1, execute: best }',
  };

  for (const kind of ['mppi', 'cem'] as const) {
    test(`${kind === 'mppi' ? 'Mppi' : 'Icem'}: plans and best costs agree over several ticks`, async (t) => {
      const config = makeConfig({ residual: { elites: 4, uncertaintyWeight: 500 }, valueWeight: 2, planner: planners[kind] });
      await prepareResidualKernel(config);
      const parts: ReferenceLearnedParts = { residual: ensemble(config, 71), value: cartpoleValue(81) };
      const model = buildModel(config, PLAN_SAMPLES);
      assert.ok(model instanceof HybridModel);
      model.setResidual(new ResidualPredictor(parts.residual!, PLAN_SAMPLES), 1);
      model.setValue(new ValuePredictor(parts.value!, PLAN_SAMPLES));
      const planner = buildPlanner(config, model, buildTaskCost(config, model), new Rng(99));
      const reference = new ReferenceEvaluator(config, PLAN_SAMPLES, parts);
      const refPlanner = plannerOn(config, reference, model.actionNames, new Rng(99));
      try {
        assert.equal(planner.kind, kind);
        const states = [cartpoleStart, Float32Array.from([0.0, 2.9, 0.1, -0.2]), Float32Array.from([-0.05, 3.2, 0, 0.3])];
        for (let tick = 0; tick < states.length; tick++) {
          const x = states[tick]!;
          const got = planner.optimize(x);
          const want = refPlanner.optimize(x);
          const costGap = Math.abs(got.bestCost - want.bestCost);
          assert.ok(costGap <= REL_TOL * Math.abs(want.bestCost) + ABS_TOL, `tick ${tick}: best cost ${got.bestCost}, reference ${want.bestCost}`);
          let worst = 0;
          for (let i = 0; i < planner.plan.length; i++) worst = Math.max(worst, Math.abs(planner.plan[i]! - refPlanner.plan[i]!));
          assert.ok(worst <= PLAN_TOL, `tick ${tick}: plans differ by up to ${worst}`);
          t.diagnostic(`tick ${tick}: best cost ${got.bestCost.toFixed(3)} (reference ${want.bestCost.toFixed(3)}), plans differ by at most ${worst.toExponential(2)}`);
          planner.advance(1);
          refPlanner.advance(1);
        }
        const expectedCalls = kind === 'mppi' ? 2 * states.length : 3 * states.length;
        assert.equal(reference.calls, expectedCalls, 'the reference priced every iteration');
      } finally {
        planner.dispose();
        refPlanner.dispose();
        model.setResidual(undefined, 0);
        model.setValue(undefined);
      }
    });
  }
});
