import type { Rng } from '../core/rng.js';
import type { RolloutEvaluator } from './rollout-evaluator.js';
import type { ActionBounds, Planner, PlanResult } from './planner.js';
import { nominalAction, shiftPlan } from './plan-buffer.js';

export interface MppiOptions {
  samples: number; // K
  horizon: number; // H
  iterations: number; // per tick
  temperature: number; // lambda
  noiseStd: Float32Array; // [nu]
  /** AR(1) coefficient along time for the noise, 0 = white; variance is kept at noiseStd^2. */
  noiseSmoothing: number;
  bounds: ActionBounds;
}

/**
 * Model Predictive Path Integral control (Williams et al. 2017): perturb the nominal plan
 * with Gaussian noise, roll every sample out, and average the sampled sequences with weights
 * exp(-(S_k - min S) / lambda). Sample 0 is always the unperturbed plan, so a good plan is
 * never lost to noise.
 */
export class Mppi implements Planner {
  readonly kind = 'mppi' as const;
  readonly horizon: number;
  readonly actionDim: number;
  readonly plan: Float32Array; // [H, nu]
  private readonly samples: Float32Array; // [H, K, nu] shared with the rollout engine
  private readonly costs: Float32Array; // [K]
  private readonly weights: Float64Array; // [K]
  private readonly acc: Float64Array; // [H, nu]
  private readonly result: PlanResult = { bestCost: 0, iterations: 0 }; // reused: no allocation per tick

  constructor(
    private readonly engine: RolloutEvaluator,
    private readonly opts: MppiOptions,
    private readonly rng: Rng,
  ) {
    this.horizon = opts.horizon;
    this.actionDim = engine.actionDim;
    if (engine.horizon !== opts.horizon || engine.maxSamples < opts.samples) throw new RangeError('engine sizes do not match');
    this.samples = engine.actions;
    this.plan = new Float32Array(opts.horizon * this.actionDim);
    this.costs = new Float32Array(engine.maxSamples);
    this.weights = new Float64Array(engine.maxSamples);
    this.acc = new Float64Array(opts.horizon * this.actionDim);
    this.reset();
  }

  reset(): void {
    const nu = this.actionDim;
    for (let t = 0; t < this.horizon; t++) for (let j = 0; j < nu; j++) this.plan[t * nu + j] = nominalAction(j, this.opts.bounds);
  }

  advance(steps: number): void {
    shiftPlan(this.plan, this.horizon, this.actionDim, steps);
  }

  optimize(state: Float32Array): PlanResult {
    let best = Infinity;
    for (let i = 0; i < this.opts.iterations; i++) best = this.iterate(state);
    this.result.bestCost = best;
    this.result.iterations = this.opts.iterations;
    return this.result;
  }

  dispose(): void {
    this.engine.dispose();
  }

  action(out: Float32Array): void {
    for (let j = 0; j < this.actionDim; j++) out[j] = this.plan[j]!;
  }

  private iterate(state: Float32Array): number {
    const { samples, plan, costs, weights, acc, rng, horizon: H, actionDim: nu } = this;
    const { samples: K, noiseStd, noiseSmoothing: rho, temperature, bounds } = this.opts;
    const innov = Math.sqrt(1 - rho * rho);
    const block = this.engine.maxSamples * nu; // the engine's [H, maxSamples, nu] step stride
    // Noise: eps_t = rho eps_{t-1} + sqrt(1 - rho^2) w_t keeps unit variance while smoothing.
    // samples[] holds the white noise w, then eps, until the sequences are formed below.
    for (let t = 0; t < H; t++) rng.fillNormal(samples, K * nu, t * block);
    if (rho !== 0) {
      for (let t = 1; t < H; t++) {
        const o = t * block;
        for (let i = 0; i < K * nu; i++) samples[o + i] = rho * samples[o + i - block]! + innov * samples[o + i]!;
      }
    }
    // Sequences: plan + std * eps, clamped to the bounds; sample 0 is the plan itself.
    for (let t = 0; t < H; t++) {
      for (let j = 0; j < nu; j++) {
        const u = plan[t * nu + j]!;
        const sd = noiseStd[j]!;
        const lo = bounds.low[j]!;
        const hi = bounds.high[j]!;
        const o = t * block + j;
        samples[o] = u;
        for (let idx = o + nu; idx < o + K * nu; idx += nu) {
          const v = u + sd * samples[idx]!;
          samples[idx] = v < lo ? lo : v > hi ? hi : v;
        }
      }
    }
    this.engine.evaluate(state, K, costs);
    let min = Infinity;
    for (let k = 0; k < K; k++) if (costs[k]! < min) min = costs[k]!;
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const w = Math.exp(-(costs[k]! - min) / temperature);
      weights[k] = w;
      sum += w;
    }
    acc.fill(0);
    for (let t = 0; t < H; t++) {
      const o = t * block;
      for (let j = 0; j < nu; j++) {
        let a = 0;
        for (let k = 0; k < K; k++) {
          const w = weights[k]!;
          if (w >= 1e-12) a += w * samples[o + k * nu + j]!;
        }
        acc[t * nu + j] = a;
      }
    }
    for (let i = 0; i < H * nu; i++) plan[i] = acc[i]! / sum;
    return min;
  }
}
