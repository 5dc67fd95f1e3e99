import type { Rng } from '../core/rng.js';
import { ColoredNoise } from './colored-noise.js';
import { selectBest } from './select-best.js';
import type { RolloutEvaluator } from './rollout-evaluator.js';
import type { ActionBounds, Planner, PlanResult } from './planner.js';
import { clampAction, nominalAction, shiftPlan } from './plan-buffer.js';

export interface IcemOptions {
  samples: number; // K, population of the first iteration
  horizon: number; // H
  iterations: number; // per tick
  eliteFraction: number; // elites = round(K * eliteFraction)
  /** Share of the elites carried into the next iteration and, shifted, into the next tick. */
  keepElites: number;
  /** Population shrinks by this factor each iteration (iCEM's gamma); 1 keeps it fixed. */
  populationDecay: number;
  beta: number; // colored-noise exponent
  initStd: Float32Array; // [nu]
  momentum: number; // alpha: share of the old mean/std kept at each update
  /** 'best': execute the best sequence found (iCEM); 'mean': the distribution's mean (CEM). */
  execute: 'best' | 'mean';
  bounds: ActionBounds;
}

/**
 * The improved Cross-Entropy Method (Pinneri et al. 2020, iCEM): colored-noise samples around a
 * Gaussian over action sequences, refit to the elites each iteration with momentum, a share of
 * elites kept across iterations and ticks, the mean added to the last iteration's population,
 * and the best sequence executed.
 */
export class Icem implements Planner {
  readonly kind = 'cem' as const;
  readonly horizon: number;
  readonly actionDim: number;
  readonly plan: Float32Array; // [H, nu] executed plan
  private readonly mean: Float32Array; // [H, nu]
  private readonly std: Float32Array; // [H, nu]
  private readonly bestSeq: Float32Array; // [H, nu] best sequence of this tick
  private readonly kept: Float32Array; // [nKeep, H, nu]
  private readonly keptViews: Float32Array[]; // per kept elite, its [H, nu] sequence
  private nKeptValid = 0;
  private readonly samples: Float32Array; // [H, K, nu] shared with the rollout engine
  private readonly costs: Float32Array; // [K]
  private readonly order: Int32Array; // [K] sample indices, the elites first in ascending cost
  private readonly orderViews: Int32Array[]; // per iteration, order[0..K_i)
  private readonly population: Int32Array; // [iterations] K_i
  private readonly nElite: Int32Array; // [iterations]
  private readonly nKeep: number;
  private readonly result: PlanResult = { bestCost: 0, iterations: 0 }; // reused: no allocation per tick
  private readonly noise: ColoredNoise;

  constructor(
    private readonly engine: RolloutEvaluator,
    private readonly opts: IcemOptions,
    private readonly rng: Rng,
  ) {
    const H = opts.horizon;
    const nu = engine.actionDim;
    this.horizon = H;
    this.actionDim = nu;
    if (engine.horizon !== H || engine.maxSamples < opts.samples) throw new RangeError('engine sizes do not match');
    this.samples = engine.actions;
    this.plan = new Float32Array(H * nu);
    this.mean = new Float32Array(H * nu);
    this.std = new Float32Array(H * nu);
    this.bestSeq = new Float32Array(H * nu);
    this.costs = new Float32Array(engine.maxSamples);
    this.order = new Int32Array(engine.maxSamples);
    this.population = new Int32Array(opts.iterations);
    this.nElite = new Int32Array(opts.iterations);
    this.orderViews = [];
    let maxKeep = 0;
    for (let i = 0; i < opts.iterations; i++) {
      const elitesFirst = Math.max(2, Math.round(opts.samples * opts.eliteFraction));
      const Ki = Math.max(Math.round(opts.samples / Math.pow(opts.populationDecay, i)), 2 * elitesFirst);
      this.population[i] = Math.min(Ki, opts.samples);
      this.nElite[i] = Math.min(elitesFirst, this.population[i]!);
      this.orderViews.push(this.order.subarray(0, this.population[i]!));
      maxKeep = Math.max(maxKeep, Math.floor(this.nElite[i]! * opts.keepElites));
    }
    this.nKeep = maxKeep;
    this.kept = new Float32Array(Math.max(1, this.nKeep) * H * nu);
    this.keptViews = [];
    for (let e = 0; e < this.nKeep; e++) this.keptViews.push(this.kept.subarray(e * H * nu, (e + 1) * H * nu));
    this.noise = new ColoredNoise(opts.beta, H);
    this.reset();
  }

  reset(): void {
    const nu = this.actionDim;
    for (let t = 0; t < this.horizon; t++) {
      for (let j = 0; j < nu; j++) {
        this.mean[t * nu + j] = nominalAction(j, this.opts.bounds);
        this.plan[t * nu + j] = this.mean[t * nu + j]!;
      }
    }
    this.nKeptValid = 0;
  }

  advance(steps: number): void {
    const H = this.horizon;
    const nu = this.actionDim;
    shiftPlan(this.mean, H, nu, steps);
    shiftPlan(this.plan, H, nu, steps);
    for (let e = 0; e < this.nKeptValid; e++) shiftPlan(this.keptViews[e]!, H, nu, steps);
  }

  optimize(state: Float32Array): PlanResult {
    const { opts, mean, std, samples, costs, bestSeq, kept, horizon: H, actionDim: nu } = this;
    const K = this.engine.maxSamples;
    const block = K * nu;
    const seqLen = H * nu;
    for (let t = 0; t < H; t++) for (let j = 0; j < nu; j++) std[t * nu + j] = opts.initStd[j]!;
    let bestCost = Infinity;
    for (let it = 0; it < opts.iterations; it++) {
      const Ki = this.population[it]!;
      const last = it === opts.iterations - 1;
      // Slots: kept elites, then (last iteration) the mean, then fresh colored-noise samples.
      const nKept = Math.min(this.nKeptValid, Ki);
      for (let e = 0; e < nKept; e++) {
        for (let t = 0; t < H; t++) for (let j = 0; j < nu; j++) samples[t * block + e * nu + j] = kept[e * seqLen + t * nu + j]!;
      }
      let first = nKept;
      if (last && first < Ki) {
        for (let t = 0; t < H; t++) for (let j = 0; j < nu; j++) samples[t * block + first * nu + j] = mean[t * nu + j]!;
        first++;
      }
      for (let j = 0; j < nu; j++) this.noise.fill(this.rng, samples, Ki - first, first * nu + j, block, nu);
      for (let t = 0; t < H; t++) {
        for (let k = first; k < Ki; k++) {
          for (let j = 0; j < nu; j++) {
            const idx = t * block + k * nu + j;
            const m = t * nu + j;
            samples[idx] = clampAction(mean[m]! + std[m]! * samples[idx]!, j, opts.bounds);
          }
        }
      }
      this.engine.evaluate(state, Ki, costs);
      const order = this.orderViews[it]!;
      for (let k = 0; k < Ki; k++) order[k] = k;
      const E = this.nElite[it]!;
      selectBest(order, Ki, E, costs);
      // Refit the Gaussian to the elites, keeping `momentum` of the old one.
      const a = opts.momentum;
      for (let t = 0; t < H; t++) {
        for (let j = 0; j < nu; j++) {
          let s1 = 0;
          let s2 = 0;
          for (let e = 0; e < E; e++) {
            const v = samples[t * block + order[e]! * nu + j]!;
            s1 += v;
            s2 += v * v;
          }
          const mu = s1 / E;
          const sd = Math.sqrt(Math.max(0, s2 / E - mu * mu));
          const m = t * nu + j;
          mean[m] = a * mean[m]! + (1 - a) * mu;
          std[m] = a * std[m]! + (1 - a) * sd;
        }
      }
      const top = order[0]!;
      if (costs[top]! < bestCost) {
        bestCost = costs[top]!;
        for (let t = 0; t < H; t++) for (let j = 0; j < nu; j++) bestSeq[t * nu + j] = samples[t * block + top * nu + j]!;
      }
      this.nKeptValid = Math.min(this.nKeep, Math.floor(E * opts.keepElites));
      for (let e = 0; e < this.nKeptValid; e++) {
        const k = order[e]!;
        for (let t = 0; t < H; t++) for (let j = 0; j < nu; j++) kept[e * seqLen + t * nu + j] = samples[t * block + k * nu + j]!;
      }
    }
    this.plan.set(opts.execute === 'best' ? bestSeq : mean);
    this.result.bestCost = bestCost;
    this.result.iterations = opts.iterations;
    return this.result;
  }

  dispose(): void {
    this.engine.dispose();
  }

  action(out: Float32Array): void {
    for (let j = 0; j < this.actionDim; j++) out[j] = this.plan[j]!;
  }
}
