import { Rng } from '../core/rng.js';
import type { TaskCost } from '../costs/task-cost.js';
import type { DynamicsModel } from '../models/dynamics.js';
import { ValuePredictor } from '../models/value/value-predictor.js';
import { fitValue, type ValueFitOptions } from '../models/value/value-trainer.js';
import { valueFeatureDim, writeStateFeatures, type ValueSnapshot } from '../models/value/value-snapshot.js';

export interface ImaginedValueOptions {
  /** Logged states branched from per round. */
  readonly starts: number;
  /** Imagined action sequences per start state. */
  readonly sequences: number;
  /** Steps per imagined rollout. */
  readonly steps: number;
  /** Rounds of fitted value iteration; each reaches `steps` further. */
  readonly rounds: number;
  readonly discount: number;
  /** Per action: std of the imagined actions, and their AR(1) smoothing along time. */
  readonly noiseStd: Float32Array;
  readonly smoothing: number;
  readonly low: Float32Array;
  readonly high: Float32Array;
  readonly fit: ValueFitOptions;
}

/**
 * MBPO-style terminal value by fitted value iteration on imagined rollouts: each round branches
 * short rollouts of the (learned) model from logged states, under many sampled action
 * sequences, and regresses V(s) onto the best of
 *     sum_t discount^t c(s_t+1, a_t) + discount^steps V_prev(s_steps)
 * over the sequences from s. Round r's value thus looks r * steps ahead; as the planner's
 * terminal cost it lets a short horizon see far. rows: logged (s, a, s') [n, nx + nu + nx].
 */
export function fitImaginedValue(
  model: DynamicsModel,
  cost: TaskCost,
  rows: Float32Array,
  n: number,
  dt: number,
  opts: ImaginedValueOptions,
  seed: number,
): { snapshot: ValueSnapshot; rounds: { round: number; mean_target: number; validation_mse: number }[] } {
  const rng = new Rng(seed);
  const nx = model.stateNames.length;
  const nu = model.actionNames.length;
  const rowSize = 2 * nx + nu;
  const N = opts.sequences;
  const startsPerChunk = Math.max(1, Math.floor(model.maxBatch / N));
  const C = startsPerChunk * N; // samples per chunk
  const cur = new Float32Array(C * nx);
  const next = new Float32Array(C * nx);
  const act = new Float32Array(C * nu);
  const stepCost = new Float32Array(C);
  const total = new Float32Array(C);
  const terminal = new Float32Array(C);
  const starts = new Float32Array(opts.starts * nx);
  const targets = new Float32Array(opts.starts);
  const features = new Float32Array(opts.starts * valueFeatureDim(model.angular));
  let value: ValueSnapshot | undefined;
  const report: { round: number; mean_target: number; validation_mse: number }[] = [];

  for (let round = 1; round <= opts.rounds; round++) {
    const predictor = value === undefined ? undefined : new ValuePredictor(value, C);
    for (let i = 0; i < opts.starts; i++) {
      const r = Math.floor(rng.uniform() * n);
      starts.set(rows.subarray(r * rowSize, r * rowSize + nx), i * nx);
    }
    for (let s0 = 0; s0 < opts.starts; s0 += startsPerChunk) {
      const m = Math.min(startsPerChunk, opts.starts - s0);
      const count = m * N;
      for (let i = 0; i < m; i++) for (let j = 0; j < N; j++) cur.set(starts.subarray((s0 + i) * nx, (s0 + i + 1) * nx), (i * N + j) * nx);
      total.fill(0, 0, count);
      act.fill(0, 0, count * nu);
      let disc = 1;
      let state = cur;
      let out = next;
      for (let t = 0; t < opts.steps; t++) {
        for (let k = 0; k < count; k++)
          for (let a = 0; a < nu; a++) {
            const o = k * nu + a;
            const u = opts.smoothing * act[o]! + Math.sqrt(1 - opts.smoothing ** 2) * opts.noiseStd[a]! * rng.normal();
            act[o] = Math.min(opts.high[a]!, Math.max(opts.low[a]!, u));
          }
        model.step(state, act, out, count, dt);
        stepCost.fill(0, 0, count);
        cost.addRunning(out, act, count, stepCost);
        for (let k = 0; k < count; k++) total[k]! += disc * stepCost[k]!;
        disc *= opts.discount;
        const swap = state;
        state = out;
        out = swap;
      }
      if (predictor !== undefined) {
        predictor.predict(state, count, terminal);
        for (let k = 0; k < count; k++) total[k]! += disc * terminal[k]!;
      }
      for (let i = 0; i < m; i++) {
        let best = Infinity;
        for (let j = 0; j < N; j++) {
          const v = total[i * N + j]!;
          if (Number.isFinite(v) && v < best) best = v;
        }
        targets[s0 + i] = Number.isFinite(best) ? best : 0;
      }
    }
    predictor?.dispose();
    writeStateFeatures(model.angular, starts, opts.starts, features);
    const fitted = fitValue({ stateNames: model.stateNames, angular: model.angular, discount: opts.discount }, features, targets, opts.starts, { ...opts.fit, seed: seed + round }, value);
    value = fitted.snapshot;
    let mean = 0;
    for (let i = 0; i < opts.starts; i++) mean += targets[i]!;
    report.push({ round, mean_target: mean / opts.starts, validation_mse: fitted.validationMse });
  }
  return { snapshot: value!, rounds: report };
}
