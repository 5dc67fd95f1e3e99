import type { MjData, MjModel } from 'mujoco-js';
import type { Config } from '../config/schema.js';
import { Rng } from '../core/rng.js';
import { buildAnalyticModel } from '../models/build-model.js';
import { getMujoco, loadMjcf, type Mujoco } from '../models/rigid-body/mujoco-runtime.js';
import { round } from './round.js';

/** What one sample-step of a rollout costs through MuJoCo itself and through the rigid-body model. */
export interface MujocoRolloutComparison {
  /** mj_step per sample and integration step, as MuJoCo MPC rolls out (same file, dt and substeps). */
  mujoco_ns_per_sample_step: number;
  /** The planner's model (native where built), K samples a batch. */
  model_ns_per_sample_step: number;
  /** mujoco / model. */
  speedup: number;
  mujoco_samples_timed: number;
}

/**
 * The rollouts of a rigid-body workload stepped two ways from the same start and the same random
 * action sequences: K x H through the planner's model in batches of K, and a share of the samples
 * one by one through MuJoCo's mj_step on the same file (timestep = period / substeps, `substeps`
 * mj_steps a control period, the file's own integrator and constraints). Single thread both, the
 * fastest of `repeats` rounds.
 */
export async function compareMujocoRollouts(config: Config, start: Float32Array, repeats = 5): Promise<MujocoRolloutComparison> {
  const m = config.model;
  if (m.kind !== 'rigid_body' || m.mjcf === undefined) throw new RangeError('the MuJoCo rollout baseline needs a rigid-body model from an MJCF');
  const K = config.planner.samples;
  const H = config.planner.horizon;
  const dt = config.control.period;
  const model = buildAnalyticModel(config, K);
  const nx = model.stateNames.length;
  const nu = model.actionNames.length;
  const actions = new Float32Array(H * K * nu); // [H, K, nu]
  const rng = new Rng(config.seed);
  for (let i = 0; i < actions.length; i++) actions[i] = Math.max(-1, Math.min(1, 0.3 * rng.normal()));
  const a = new Float32Array(K * nu);
  let cur = new Float32Array(K * nx);
  let next = new Float32Array(K * nx);
  const modelRound = (): void => {
    for (let k = 0; k < K; k++) cur.set(start, k * nx);
    for (let h = 0; h < H; h++) {
      a.set(actions.subarray(h * K * nu, (h + 1) * K * nu));
      model.step(cur, a, next, K, dt);
      [cur, next] = [next, cur];
    }
  };
  const modelMs = fastest(modelRound, repeats);

  const mj = await getMujoco();
  const mjModel = await loadMjcf(m.mjcf);
  const data = new mj.MjData(mjModel);
  try {
    mjModel.opt.timestep = dt / m.substeps;
    const samples = Math.min(K, 128); // mj_step is slow: time a share of K, per sample-step
    const mujocoRound = (): void => rolloutMujoco(mj, mjModel, data, start, actions, samples, K, H, nu, m.substeps);
    const mujocoMs = fastest(mujocoRound, repeats);
    const mujocoNs = (mujocoMs * 1e6) / (samples * H);
    const modelNs = (modelMs * 1e6) / (K * H);
    return { mujoco_ns_per_sample_step: round(mujocoNs, 1), model_ns_per_sample_step: round(modelNs, 1), speedup: round(mujocoNs / modelNs, 1), mujoco_samples_timed: samples };
  } finally {
    data.delete();
    mjModel.delete();
  }
}

function rolloutMujoco(mj: Mujoco, model: MjModel, data: MjData, start: Float32Array, actions: Float32Array, samples: number, K: number, H: number, nu: number, substeps: number): void {
  const nq = start.length / 2;
  for (let k = 0; k < samples; k++) {
    mj.mj_resetData(model, data);
    const qpos = data.qpos as Float64Array;
    const qvel = data.qvel as Float64Array;
    for (let d = 0; d < nq; d++) {
      qpos[d] = start[d]!;
      qvel[d] = start[nq + d]!;
    }
    const ctrl = data.ctrl as Float64Array;
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < nu; i++) ctrl[i] = actions[(h * K + k) * nu + i]!;
      for (let s = 0; s < substeps; s++) mj.mj_step(model, data);
    }
  }
}

function fastest(run: () => void, repeats: number): number {
  run(); // warm-up: JIT, caches, WASM tiers
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    run();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}
