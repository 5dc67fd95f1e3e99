import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../config/load-config.js';
import { getMujoco } from '../models/rigid-body/mujoco-runtime.js';
import type { Config, PlannerConfig } from '../config/schema.js';
import { layerWidths, type ResidualSpec } from '../models/residual/residual-spec.js';

/**
 * The fixed benchmark workloads. They never change with the examples in config/ or with the
 * schema's defaults (every planner setting is spelt out), so numbers stay comparable across
 * commits. W0: DESIGN's reference task with the analytic model only; W0-rigid-body: W0 over the
 * generic rigid-body model read from the cart-pole's MJCF; W1: W0 with the residual ensemble;
 * W2: W1 at four times the samples; W3: W1 planned by iCEM; W4: the 7-DoF arm reaching a point,
 * rigid-body model only.
 */
export interface Workload {
  name: string;
  description: string;
  config: Config;
  /** The state every tick plans from; default benchState (the cart-pole's). */
  state?: Float32Array;
}

/** DESIGN's W1 residual: 5 members of 5 -> 64 -> 64 -> 2x4 MLPs, all used by the planner. */
const W1_RESIDUAL = 'residual: { members: 5, elites: 5, hidden: [64, 64], backend: auto }';

/** The swing-up cost of every workload; the op-by-op baseline writes exactly this as tensor ops. */
export const BENCH_COST_EXPR = '10*(1 - cos(theta)) + 1*x^2 + 0.1*x_dot^2 + 0.01*u^2 + 0.01*theta_dot^2';

const mppi = (samples: number, horizon: number): string =>
  `{ kind: mppi, samples: ${samples}, horizon: ${horizon}, iterations: 1, temperature: 1, noise_std: { u: 0.6 }, noise_smoothing: 0 }`;

/** iCEM with the paper's settings: 10% elites, 30% of them kept, population shrinking by 1.25. */
const icem = (samples: number, horizon: number, iterations: number): string =>
  `{ kind: cem, samples: ${samples}, horizon: ${horizon}, iterations: ${iterations}, elite_fraction: 0.1, keep_elites: 0.3, ` +
  'population_decay: 1.25, beta: 2, init_std: { u: 0.6 }, momentum: 0.1, execute: best }';

const cartpoleBase = (planner: string, residual = ''): string => `
name: bench
seed: 7
model: { robot: cartpole, integrator: rk4, substeps: 1${residual === '' ? '' : `, ${residual}`} }
control: { period: 0.02, action_bounds: { u: [-1, 1] } }
planner: ${planner}
task:
  cost:
    - { kind: expression, expr: "${BENCH_COST_EXPR}", terminal_weight: 5 }
  success: { expr: "abs(wrap(theta)) < 0.2" }
plant:
  kind: sim
  mjcf: unused.xml
  state: [{ name: x, joint: slider, field: qpos }, { name: theta, joint: hinge, field: qpos }, { name: x_dot, joint: slider, field: qvel }, { name: theta_dot, joint: hinge, field: qvel }]
  actions: [{ name: u, actuator: cart_force }]
`;

/** The repository's sim/models folder (from dist/src/cli). */
const modelsDir = fileURLToPath(new URL('../../../sim/models/', import.meta.url));

/** W0's task over the rigid-body model of sim/models/cartpole-nominal.xml (which names its joints and actuator as W0's states and action). */
const rigidBodyCartpole = (planner: string): string =>
  cartpoleBase(planner).replace(/^model: .*$/m, `model: { kind: rigid_body, mjcf: ${join(modelsDir, 'cartpole-nominal.xml')}, integrator: rk4, substeps: 1 }`);

const ARM7_JOINTS = ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7'];
const ARM7_TORQUES = ['t1', 't2', 't3', 't4', 't5', 't6', 't7'];
/** W4's start: the arm's ready pose (elbow bent, wrist down), at rest. */
export const ARM7_READY = [0, -0.785, 0, -2.356, 0, 1.571, 0.785];

/** The 7-DoF arm (sim/models/arm7.xml) reaching a point with its end effector, MPPI, rigid-body model only. */
export function arm7ReachText(samples: number, horizon: number): string {
  const each = (names: string[], v: string): string => `{ ${names.map((n) => `${n}: ${v}`).join(', ')} }`;
  const speed = ARM7_JOINTS.map((j) => `${j}_dot^2`).join(' + ');
  return `
name: bench-arm7
seed: 7
model: { kind: rigid_body, mjcf: ${join(modelsDir, 'arm7.xml')}, integrator: semi_implicit_euler, substeps: 2 }
control: { period: 0.02, action_bounds: ${each(ARM7_TORQUES, '[-1, 1]')} }
planner: { kind: mppi, samples: ${samples}, horizon: ${horizon}, iterations: 1, temperature: 1, noise_std: ${each(ARM7_TORQUES, '0.2')}, noise_smoothing: 0 }
task:
  params: { tx: 0.45, ty: 0.25, tz: 0.45 }
  points: { ee: { site: ee } }
  cost:
    - { kind: expression, name: reach, expr: "100*((ee_x - tx)^2 + (ee_y - ty)^2 + (ee_z - tz)^2) + 0.01*(${speed})", terminal_weight: 5 }
    - { kind: effort, weights: ${each(ARM7_TORQUES, '0.01')} }
  success: { expr: "(ee_x - tx)^2 + (ee_y - ty)^2 + (ee_z - tz)^2 < 0.0004" }
plant:
  kind: sim
  mjcf: unused.xml
  state: [${[...ARM7_JOINTS.map((j) => `{ name: ${j}, joint: ${j}, field: qpos }`), ...ARM7_JOINTS.map((j) => `{ name: ${j}_dot, joint: ${j}, field: qvel }`)].join(', ')}]
  actions: [${ARM7_JOINTS.map((j, i) => `{ name: ${ARM7_TORQUES[i]}, actuator: ${ARM7_TORQUES[i]} }`).join(', ')}]
`;
}

/** W1's config at another size (tests run the same task small). */
export function residualMppiConfig(samples: number, horizon: number): Config {
  return parseConfigText(cartpoleBase(mppi(samples, horizon), W1_RESIDUAL), `bench W1 K=${samples} H=${horizon}`);
}

/** Every workload; the rigid-body ones compile their MJCF, so MuJoCo is instantiated first. */
export async function workloads(): Promise<Workload[]> {
  await getMujoco();
  const residual = 'analytic RK4 + residual ensemble 5 x (64, 64) (seeded weights, one member per sample)';
  return [
    {
      name: 'W0',
      description: 'cart-pole, analytic model (RK4), MPPI, K=1024, H=30, 1 iteration',
      config: parseConfigText(cartpoleBase(mppi(1024, 30)), 'bench W0'),
    },
    {
      name: 'W0-rigid-body',
      description: 'W0 over the generic rigid-body model of sim/models/cartpole-nominal.xml (RK4), MPPI, K=1024, H=30, 1 iteration',
      config: parseConfigText(rigidBodyCartpole(mppi(1024, 30)), 'bench W0-rigid-body'),
    },
    {
      name: 'W1',
      description: `cart-pole, ${residual}, MPPI, K=1024, H=30, 1 iteration`,
      config: residualMppiConfig(1024, 30),
    },
    {
      name: 'W2',
      description: `cart-pole, ${residual}, MPPI, K=4096, H=30, 1 iteration`,
      config: residualMppiConfig(4096, 30),
    },
    {
      name: 'W3',
      description: `cart-pole, ${residual}, iCEM, K=1024 shrinking by 1.25 per iteration, H=30, 5 iterations`,
      config: parseConfigText(cartpoleBase(icem(1024, 30, 5), W1_RESIDUAL), 'bench W3'),
    },
    {
      name: 'W4',
      description: '7-DoF arm (sim/models/arm7.xml) reaching a point, rigid-body model only (semi-implicit Euler, 2 substeps), MPPI, K=1024, H=30, 1 iteration',
      config: parseConfigText(arm7ReachText(1024, 30), 'bench W4'),
      state: Float32Array.from([...ARM7_READY, 0, 0, 0, 0, 0, 0, 0]),
    },
  ];
}

/** The start state of every benchmark iteration: the pole hanging, slightly off. */
export const benchState = Float32Array.from([0.05, 3.0, 0, 0.1]);

/**
 * Samples rolled out over the horizon in one tick: K per MPPI iteration; for iCEM the sum of
 * its shrinking populations, by the schedule of planning/icem.ts (a test counts what Icem
 * actually evaluates against this).
 */
export function samplesPerTick(p: PlannerConfig): number {
  if (p.kind === 'mppi') return p.samples * p.iterations;
  const elitesFirst = Math.max(2, Math.round(p.samples * p.elite_fraction));
  let total = 0;
  for (let i = 0; i < p.iterations; i++) {
    total += Math.min(Math.max(Math.round(p.samples / Math.pow(p.population_decay, i)), 2 * elitesFirst), p.samples);
  }
  return total;
}

/**
 * Floating-point operations of one member's mean path for one sample and step, counted from the
 * layer widths: per layer 2 in out for the matmul, out for the bias, out for the ReLU of hidden
 * layers. The last layer has nx outputs: the planner never computes the log-variance columns.
 */
export function mlpFlopPerSampleStep(spec: ResidualSpec): number {
  const w = layerWidths(spec);
  w[w.length - 1] = spec.stateNames.length;
  let flop = 0;
  for (let l = 0; l + 1 < w.length; l++) {
    const out = w[l + 1]!;
    flop += 2 * w[l]! * out + out + (l + 2 < w.length ? out : 0);
  }
  return flop;
}
