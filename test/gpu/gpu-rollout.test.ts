import assert from 'node:assert/strict';
import { before, after, describe, it, type TestContext } from 'node:test';

import { parseConfigText } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';
import { buildTaskCost } from '../../src/costs/build-task-cost.js';
import { LiveParamValues } from '../../src/costs/task-params.js';
import { GpuRollout } from '../../src/gpu/gpu-rollout.js';
import { unsupportedFeature } from '../../src/gpu/rollout-kernel.js';
import { residualSpecForConfig } from '../../src/learning/residual-spec-for-config.js';
import { robots } from '../../src/models/analytic/registry.js';
import { buildAnalyticModel, buildModel } from '../../src/models/build-model.js';
import { HybridModel } from '../../src/models/hybrid-model.js';
import type { EnsembleSnapshot } from '../../src/models/residual/ensemble-snapshot.js';
import { randomSnapshot } from '../../src/models/residual/random-snapshot.js';
import { ResidualPredictor } from '../../src/models/residual/residual-predictor.js';
import { selectTfBackend } from '../../src/models/residual/tf-backend.js';
import { RolloutEngine } from '../../src/planning/rollout.js';

/*
 * The GPU rollout against the CPU RolloutEngine on the same configs, start states and actions.
 *
 * Tolerance. Both sides store states and costs in float32, but the CPU computes between stores
 * in float64 (and its residual runs on tfjs with another summation order), so each step's state
 * differs by a few float32 ulps (~1e-7 relative). Over H = 30 steps of 20 ms (0.6 s) such a
 * difference grows at most like exp(lambda t) with the upright pole's unstable rate
 * lambda = sqrt(3 g / (2 l)) ~ 3.8 /s (cart-pole, l = 1 m) or ~5.4 /s (pendulum, l = 0.5 m):
 * at most x10 and x25. The starts are near hanging, where the motion stays oscillatory for most
 * samples, and the costs are sums of ~30 positive terms of size ~1..100. So 1e-4 relative is
 * ~100x above the expected error and still far below any difference a bug makes (a wrong
 * parameter, a skipped term or residual member moves costs by 1e-3..1 relative, checked below).
 * No cost term has a discontinuity (no comparisons, floor or round), so a state one ulp away
 * cannot jump a cost.
 */
const REQUIRE_WEBGPU = process.env.MPCD_REQUIRE_WEBGPU === '1';
const K = 1024;
const ODD_COUNT = 777; // 5 members: blocks of 156, the last one short (153)
const H = 30;
const REL_TOL = 1e-4;

const plant = (state: string[], action: string): string => `
plant:
  kind: sim
  mjcf: unused.xml
  state: [${state.map((s) => `{ name: ${s}, joint: j, field: qpos }`).join(', ')}]
  actions: [{ name: ${action}, actuator: a }]
`;

const cartpoleConfig = (residual: string, extra = ''): Config =>
  parseConfigText(
    `
seed: 3
model: { robot: cartpole, integrator: rk4, substeps: 2, params: { cart_mass: 1.2, pole_mass: 0.15, pole_length: 0.9, cart_damping: 0.1, pole_damping: 0.01, gear: 8 }${residual} }
control: { period: 0.02, action_bounds: { u: [-1, 1] } }
planner: { kind: mppi, samples: ${K}, horizon: ${H}, noise_std: { u: 0.6 } }
task:
  params: { w_abs: 0.5 }
  cost:
    - { kind: expression, expr: "10*(1 - cos(theta)) + x^2 + 0.1*x_dot^2 + 0.01*u^2 + 0.01*theta_dot^2 + w_abs*smoothabs(wrap(theta), 0.1)", terminal_weight: 5 }
    - { kind: quadratic, target: { x: 0.1, theta: 3.14159 }, weights: { x: 1, theta: 2 }, weight: 0.5, terminal_weight: 2 }
    - { kind: state_bounds, bounds: { x: [-0.4, 0.4] }, weight: 50, terminal_weight: 10 }
    - { kind: effort, weights: { u: 0.05 } }
  success: { expr: "abs(wrap(theta)) < 0.2" }
${plant(['x', 'theta', 'x_dot', 'theta_dot'], 'u')}${extra}`,
    'gpu test cart-pole',
  );

const pendulumConfig = (): Config =>
  parseConfigText(
    `
seed: 4
model: { robot: pendulum, integrator: semi_implicit_euler, substeps: 2, params: { mass: 1.1, length: 0.5, damping: 0.02, gear: 1.5 } }
control: { period: 0.02, action_bounds: { u: [-1, 1] } }
planner: { kind: mppi, samples: ${K}, horizon: ${H}, noise_std: { u: 0.8 } }
task:
  cost:
    - { kind: expression, expr: "10*(1 - cos(theta)) + 0.05*theta_dot^2 + 0.2*u^2", terminal_weight: 5 }
    - { kind: quadratic, weights: { theta: 1 }, weight: 1, terminal_weight: 3 }
    - { kind: state_bounds, bounds: { theta_dot: [-4, 4] }, weight: 10 }
    - { kind: effort, weights: { u: 0.1 } }
  success: { expr: "abs(wrap(theta)) < 0.2" }
${plant(['theta', 'theta_dot'], 'u')}`,
    'gpu test pendulum',
  );

/**
 * A config any registered robot runs: its default params, a quadratic cost on every state and
 * an effort cost on every action, from a start with its angles near hanging (3 rad).
 */
function robotConfig(robot: (typeof robots)[number], integrator: 'rk4' | 'semi_implicit_euler'): { config: Config; start: Float32Array } {
  const each = (names: readonly string[], value: string): string => `{ ${names.map((n) => `${n}: ${value}`).join(', ')} }`;
  const config = parseConfigText(
    `
seed: 5
model: { robot: ${robot.name}, integrator: ${integrator}, substeps: 2 }
control: { period: 0.02, action_bounds: ${each(robot.actionNames, '[-1, 1]')} }
planner: { kind: mppi, samples: ${K}, horizon: ${H}, noise_std: ${each(robot.actionNames, '0.6')} }
task:
  cost:
    - { kind: quadratic, weights: ${each(robot.stateNames, '1')}, weight: 1, terminal_weight: 3 }
    - { kind: effort, weights: ${each(robot.actionNames, '0.1')} }
  success: { expr: "1 > 0" }
plant:
  kind: sim
  mjcf: unused.xml
  state: [${robot.stateNames.map((s) => `{ name: ${s}, joint: j, field: qpos }`).join(', ')}]
  actions: [${robot.actionNames.map((a) => `{ name: ${a}, actuator: a }`).join(', ')}]
`,
    `gpu test ${robot.name}`,
  );
  const start = Float32Array.from(robot.angular, (angle, i) => (angle ? 3.0 : i < robot.nq ? 0.05 : 0.1));
  return { config, start };
}

const W1_RESIDUAL = ', residual: { members: 5, elites: 5, hidden: [64, 64] }';
const CARTPOLE_START = Float32Array.from([0.05, 3.0, 0, 0.1]);
const PENDULUM_START = Float32Array.from([3.0, 0.1]);

/** Uniform actions in [-1, 1], [H, K, nu]. */
function randomActions(nu: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: H * K * nu }, () => 2 * rng.uniform() - 1);
}

function snapshotFor(config: Config, seed: number): EnsembleSnapshot {
  const spec = residualSpecForConfig(config, buildAnalyticModel(config, 1));
  assert.ok(spec !== undefined);
  return randomSnapshot(spec, new Rng(seed));
}

/** The CPU path as build-planner.ts assembles it (these configs have no planning penalties). */
function cpuCosts(config: Config, snapshot: EnsembleSnapshot | undefined, x0: Float32Array, actions: Float32Array, count: number, live?: LiveParamValues): Float32Array {
  const model = buildModel(config, K);
  const predictor = snapshot === undefined ? undefined : new ResidualPredictor(snapshot, K);
  if (predictor !== undefined) {
    assert.ok(model instanceof HybridModel);
    model.setResidual(predictor, 1);
  }
  try {
    const engine = new RolloutEngine(model, buildTaskCost(config, model, live), K, H, config.control.period, actions);
    const costs = new Float32Array(K);
    engine.evaluate(x0, count, costs);
    return costs.slice(0, count);
  } finally {
    predictor?.dispose();
  }
}

async function gpuCosts(gpu: GpuRollout, x0: Float32Array, actions: Float32Array, count: number): Promise<Float32Array> {
  const costs = new Float32Array(K).fill(-1);
  await gpu.evaluate(x0, actions, count, costs);
  assert.ok(costs.subarray(count).every((c) => c === -1), 'costs at and beyond count are left alone');
  return costs.slice(0, count);
}

function maxRelativeError(gpu: Float32Array, cpu: Float32Array): number {
  assert.equal(gpu.length, cpu.length);
  let worst = 0;
  for (let k = 0; k < cpu.length; k++) {
    assert.ok(Number.isFinite(cpu[k]!) && cpu[k]! > 0, `CPU cost ${k} is ${cpu[k]}`);
    worst = Math.max(worst, Math.abs(gpu[k]! - cpu[k]!) / cpu[k]!);
  }
  return worst;
}

function assertAgree(t: TestContext, gpu: Float32Array, cpu: Float32Array, what: string): void {
  const err = maxRelativeError(gpu, cpu);
  t.diagnostic(`${what}: max relative difference ${err.toExponential(2)}`);
  assert.ok(err < REL_TOL, `${what}: GPU and CPU costs differ by ${err.toExponential(2)} relative (tolerance ${REL_TOL})`);
  // The costs must tell samples apart, or agreement would prove little.
  const spread = (Math.max(...cpu) - Math.min(...cpu)) / Math.max(...cpu);
  assert.ok(spread > 20 * REL_TOL, `${what}: the samples' costs spread by only ${spread}`);
}

/** A rollout for the config, or a skip (a failure with MPCD_REQUIRE_WEBGPU=1) where WebGPU is missing. */
async function gpuRollout(t: TestContext, config: Config, liveParams?: SharedArrayBuffer): Promise<GpuRollout | undefined> {
  assert.equal(unsupportedFeature(config), undefined, 'the test config is one the kernel supports');
  const gpu = await GpuRollout.create(config, K, liveParams);
  if (!('unsupported' in gpu)) return gpu;
  if (REQUIRE_WEBGPU) assert.fail(`MPCD_REQUIRE_WEBGPU=1 but: ${gpu.unsupported}`);
  t.skip(gpu.unsupported);
  return undefined;
}

before(async () => {
  await selectTfBackend('auto');
});

describe('GpuRollout matches RolloutEngine', () => {
  const opened: GpuRollout[] = [];
  after(() => opened.forEach((g) => g.dispose()));
  const open = async (t: TestContext, config: Config, liveParams?: SharedArrayBuffer): Promise<GpuRollout | undefined> => {
    const g = await gpuRollout(t, config, liveParams);
    if (g !== undefined) opened.push(g);
    return g;
  };

  it('cart-pole, analytic RK4 (2 substeps), expression + quadratic + bounds + effort', async (t) => {
    const config = cartpoleConfig('');
    const gpu = await open(t, config);
    if (gpu === undefined) return;
    t.diagnostic(`adapter: ${gpu.adapterName}`);
    const actions = randomActions(1, 11);
    for (const count of [K, ODD_COUNT]) {
      const cpu = cpuCosts(config, undefined, CARTPOLE_START, actions, count);
      assertAgree(t, await gpuCosts(gpu, CARTPOLE_START, actions, count), cpu, `K=${count}`);
    }
    // A start near upright, where the dynamics amplify differences most.
    const upright = Float32Array.from([0, 0.3, 0, -0.5]);
    assertAgree(t, await gpuCosts(gpu, upright, actions, K), cpuCosts(config, undefined, upright, actions, K), 'near upright');
  });

  it('cart-pole with a live target: the GPU reads the values the planner writes, changed between evaluations', async (t) => {
    const base = cartpoleConfig('');
    const config: Config = {
      ...base,
      task: {
        ...base.task,
        params: { ...base.task.params, x_goal: { default: 0.1, bounds: [-1, 1], live: true } },
        cost: [
          { kind: 'expression', expr: '10*(1 - cos(theta)) + (x - x_goal)^2 + 0.1*x_dot^2 + 0.01*u^2 + w_abs*smoothabs(wrap(theta - x_goal), 0.1)', weight: 1, terminal_weight: 5 },
          ...base.task.cost.slice(1),
        ],
      },
    };
    // One set of values, as the planner's thread and the GPU worker share them.
    const live = new LiveParamValues(config.task);
    const gpu = await open(t, config, live.buffer);
    if (gpu === undefined) return;
    const actions = randomActions(1, 17);
    const first = await gpuCosts(gpu, CARTPOLE_START, actions, K);
    assertAgree(t, first, cpuCosts(config, undefined, CARTPOLE_START, actions, K, live), 'x_goal = 0.1');
    assert.equal(live.set('x_goal', -0.6), undefined);
    const cpu = cpuCosts(config, undefined, CARTPOLE_START, actions, K, live);
    assertAgree(t, await gpuCosts(gpu, CARTPOLE_START, actions, K), cpu, 'x_goal = -0.6');
    assert.ok(maxRelativeError(first, cpu) > 10 * REL_TOL, 'the new target changes the costs far beyond the tolerance');
    live.reset();
    assert.deepEqual(await gpuCosts(gpu, CARTPOLE_START, actions, K), first, 'the default back: the first costs exactly');
  });

  it('cart-pole + residual ensemble 5 x (64, 64): each sample its elite member, over K=1024 and K=777', async (t) => {
    const config = cartpoleConfig(W1_RESIDUAL);
    const gpu = await open(t, config);
    if (gpu === undefined) return;
    const snapshot = snapshotFor(config, 21);
    const actions = randomActions(1, 12);
    const analytic = await gpuCosts(gpu, CARTPOLE_START, actions, K); // none installed yet
    assertAgree(t, analytic, cpuCosts(config, undefined, CARTPOLE_START, actions, K), 'before a residual is installed');
    gpu.setResidual(snapshot);
    for (const count of [K, ODD_COUNT]) {
      const cpu = cpuCosts(config, snapshot, CARTPOLE_START, actions, count);
      const got = await gpuCosts(gpu, CARTPOLE_START, actions, count);
      assertAgree(t, got, cpu, `K=${count}`);
      assert.ok(maxRelativeError(analytic.subarray(0, count), cpu) > 10 * REL_TOL, 'the residual changes the costs far beyond the tolerance');
    }
    gpu.setResidual(undefined);
    assert.deepEqual(await gpuCosts(gpu, CARTPOLE_START, actions, K), analytic, 'removing the residual restores the analytic costs exactly');
  });

  it('cart-pole + residual: a snapshot whose elites are a reordered subset of the members', async (t) => {
    const config = cartpoleConfig(W1_RESIDUAL);
    const gpu = await open(t, config);
    if (gpu === undefined) return;
    const base = snapshotFor(config, 22);
    // Trained-like normalizers too, so the folds into the first and last layers are exercised.
    const snapshot: EnsembleSnapshot = {
      ...base,
      input: { mean: Float32Array.from([0.1, -0.2, 0.3, 0.05, -0.1, 0.2]), std: Float32Array.from([0.5, 0.7, 0.8, 1.5, 2, 0.6]) },
      target: { mean: Float32Array.from([0.001, -0.002, 0.01, 0.02]), std: Float32Array.from([0.5, 2, 3, 4]) },
      elites: [3, 0, 4],
    };
    gpu.setResidual(snapshot);
    const actions = randomActions(1, 13);
    for (const count of [K, ODD_COUNT]) {
      assertAgree(t, await gpuCosts(gpu, CARTPOLE_START, actions, count), cpuCosts(config, snapshot, CARTPOLE_START, actions, count), `K=${count}`);
    }
  });

  it('cart-pole + residuals of other shapes: one hidden layer, widths not a multiple of 4, three hidden layers', async (t) => {
    const actions = randomActions(1, 16);
    for (const hidden of ['[7]', '[6, 10]', '[8, 5, 12]']) {
      const config = cartpoleConfig(`, residual: { members: 3, elites: 2, hidden: ${hidden} }`);
      const gpu = await open(t, config);
      if (gpu === undefined) return;
      const snapshot: EnsembleSnapshot = { ...snapshotFor(config, 23), elites: [2, 0] };
      gpu.setResidual(snapshot);
      assertAgree(t, await gpuCosts(gpu, CARTPOLE_START, actions, ODD_COUNT), cpuCosts(config, snapshot, CARTPOLE_START, actions, ODD_COUNT), `hidden ${hidden}`);
    }
  });

  for (const robot of robots.filter((r) => r.wgsl !== undefined)) {
    for (const integrator of ['rk4', 'semi_implicit_euler'] as const) {
      it(`every registered robot: ${robot.name}, ${integrator}, default params, quadratic + effort`, async (t) => {
        const { config, start } = robotConfig(robot, integrator);
        const gpu = await open(t, config);
        if (gpu === undefined) return;
        const actions = randomActions(robot.actionNames.length, 15);
        for (const count of [K, ODD_COUNT]) {
          assertAgree(t, await gpuCosts(gpu, start, actions, count), cpuCosts(config, undefined, start, actions, count), `${robot.name} K=${count}`);
        }
      });
    }
  }

  it('pendulum, semi-implicit Euler with 2 substeps, expression + quadratic + bounds + effort', async (t) => {
    const config = pendulumConfig();
    const gpu = await open(t, config);
    if (gpu === undefined) return;
    const actions = randomActions(1, 14);
    for (const count of [K, ODD_COUNT]) {
      assertAgree(t, await gpuCosts(gpu, PENDULUM_START, actions, count), cpuCosts(config, undefined, PENDULUM_START, actions, count), `K=${count}`);
    }
  });

  it('a diverging rollout costs 3.4e38, as on the CPU', async (t) => {
    const config = pendulumConfig();
    const gpu = await open(t, config);
    if (gpu === undefined) return;
    const actions = randomActions(1, 15);
    actions.fill(3e38, 0, K); // the first step's torque overflows every sample's velocity
    const got = await gpuCosts(gpu, PENDULUM_START, actions, 64);
    const cpu = cpuCosts(config, undefined, PENDULUM_START, actions, 64);
    assert.ok(cpu.every((c) => c === Math.fround(3.4e38)));
    assert.deepEqual(got, cpu);
  });
});

describe('GpuRollout.create', () => {
  it('reports unsupported, naming the setting, for an uncertainty penalty', async () => {
    const config = cartpoleConfig(', residual: { members: 5, elites: 5, hidden: [64, 64], uncertainty_weight: 0.5 }');
    const r = await GpuRollout.create(config, K);
    assert.ok('unsupported' in r, 'no GPU rollout is built');
    assert.match(r.unsupported, /uncertainty_weight/);
  });

  it('reports unsupported for a planning terminal value', async () => {
    const config = cartpoleConfig(W1_RESIDUAL, 'learning: { value: { enabled: true, weight: 1 } }\n');
    const r = await GpuRollout.create(config, K);
    assert.ok('unsupported' in r);
    assert.match(r.unsupported, /learning\.value/);
  });

  it('throws, as the CPU path does, on an expression that names an unknown state', async () => {
    const config = cartpoleConfig('');
    const bad: Config = { ...config, task: { ...config.task, cost: [{ kind: 'expression', expr: 'thetaa^2', weight: 1, terminal_weight: 0 }] } };
    await assert.rejects(GpuRollout.create(bad, K), /unknown name "thetaa"/);
  });
});
