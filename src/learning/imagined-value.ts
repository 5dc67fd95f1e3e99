import { Rng } from '../core/rng.js';
import type { TaskCost } from '../costs/task-cost.js';
import type { DynamicsModel } from '../models/dynamics.js';
import { ValuePredictor } from '../models/value/value-predictor.js';
import { fitValue, type ValueFitOptions } from '../models/value/value-trainer.js';
import { stateFeatureDim, writeStateFeatures } from '../models/state-features.js';
import type { ValueSnapshot } from '../models/value/value-snapshot.js';

export interface ImaginedValueOptions {
  /** Logged states branched from per round. */
  readonly starts: number;
  /** Imagined action sequences per start state. */
  readonly sequences: number;
  /** Steps per imagined rollout. */
  readonly steps: number;
  /** Rounds of fitted value iteration; each reaches `steps` further. */
  readonly rounds: number;
  /** Cross-entropy refinements of the imagined action sequences per start state (1 = random only). */
  readonly refinements: number;
  /**
   * Fraction of each round's starts drawn from states the previous round imagined (MBPO's model
   * buffer) instead of logged ones: the planner's sampled rollouts end in such states, off the
   * logged distribution, and the value must be right there too.
   */
  readonly imaginedStarts: number;
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
 * sequences (refined by a few cross-entropy steps per start), and regresses V(s) onto the best of
 *     sum_t discount^t c(s_t+1, a_t) + discount^steps V_prev(s_steps)
 * over the sequences from s. V_prev is the task's terminal cost in round 1, so round 1 sees what a
 * horizon `steps` longer would; each later round looks `steps` further, and compounds its errors.
 * From round 2 on, part of the starts are states the previous round imagined (MBPO's model
 * buffer), where the planner's samples also go. As the planner's terminal cost the value lets a
 * short horizon see far. rows: logged (s, a, s') [n, nx + nu + nx].
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
  const noise = new Float32Array(C * nu); // AR(1) state per sample and action
  const seqActs = new Float32Array(C * opts.steps * nu); // [count, steps, nu] actions taken
  const seqMean = new Float32Array(startsPerChunk * opts.steps * nu);
  const seqStd = new Float32Array(startsPerChunk * opts.steps * nu);
  const best = new Float64Array(startsPerChunk);
  const order = new Int32Array(N);
  const elites = Math.max(2, Math.floor(N / 8));
  const stepCost = new Float32Array(C);
  const total = new Float32Array(C);
  const terminal = new Float32Array(C);
  const starts = new Float32Array(opts.starts * nx);
  // States imagined in the last refinement: per start one, from a random sample at a random step.
  const imagined = new Float32Array(opts.starts * nx); // [starts, nx]
  let imaginedCount = 0;
  const recordStep = new Int32Array(startsPerChunk);
  const recordSample = new Int32Array(startsPerChunk);
  const targets = new Float32Array(opts.starts);
  const features = new Float32Array(opts.starts * stateFeatureDim(model.angular));
  let value: ValueSnapshot | undefined;
  const report: { round: number; mean_target: number; validation_mse: number }[] = [];

  for (let round = 1; round <= opts.rounds; round++) {
    const predictor = value === undefined ? undefined : new ValuePredictor(value, C);
    const fromImagined = imaginedCount === 0 ? 0 : Math.floor(opts.starts * opts.imaginedStarts);
    for (let i = 0; i < opts.starts; i++) {
      if (i < fromImagined) {
        const r = Math.floor(rng.uniform() * imaginedCount);
        starts.set(imagined.subarray(r * nx, (r + 1) * nx), i * nx);
      } else {
        const r = Math.floor(rng.uniform() * n);
        starts.set(rows.subarray(r * rowSize, r * rowSize + nx), i * nx);
      }
    }
    imaginedCount = 0; // the starts hold their copies: this round's imagined states may overwrite
    for (let s0 = 0; s0 < opts.starts; s0 += startsPerChunk) {
      const m = Math.min(startsPerChunk, opts.starts - s0);
      const count = m * N;
      // Per start: a Gaussian over action sequences [steps, nu], refined toward its elites (CEM),
      // so the backup's minimum is over good sequences, not only random ones.
      for (let i = 0; i < m; i++)
        for (let t = 0; t < opts.steps; t++)
          for (let a = 0; a < nu; a++) {
            seqMean[(i * opts.steps + t) * nu + a] = 0;
            seqStd[(i * opts.steps + t) * nu + a] = opts.noiseStd[a]!;
          }
      best.fill(Infinity, 0, m);
      for (let it = 0; it < opts.refinements; it++) {
        for (let i = 0; i < m; i++) for (let j = 0; j < N; j++) cur.set(starts.subarray((s0 + i) * nx, (s0 + i + 1) * nx), (i * N + j) * nx);
        total.fill(0, 0, count);
        noise.fill(0, 0, count * nu);
        let disc = 1;
        let state = cur;
        let out = next;
        const last = it + 1 === opts.refinements;
        if (last)
          for (let i = 0; i < m; i++) {
            recordStep[i] = Math.floor(rng.uniform() * opts.steps);
            recordSample[i] = Math.floor(rng.uniform() * N);
          }
        for (let t = 0; t < opts.steps; t++) {
          for (let k = 0; k < count; k++) {
            const i = Math.floor(k / N);
            for (let a = 0; a < nu; a++) {
              const o = k * nu + a;
              noise[o] = opts.smoothing * noise[o]! + Math.sqrt(1 - opts.smoothing ** 2) * rng.normal();
              const g = (i * opts.steps + t) * nu + a;
              const u = seqMean[g]! + seqStd[g]! * noise[o]!;
              act[o] = Math.min(opts.high[a]!, Math.max(opts.low[a]!, u));
              seqActs[(k * opts.steps + t) * nu + a] = act[o]!;
            }
          }
          model.step(state, act, out, count, dt);
          if (last)
            for (let i = 0; i < m; i++) {
              if (recordStep[i] !== t) continue;
              const k = i * N + recordSample[i]!;
              const o = out.subarray(k * nx, (k + 1) * nx);
              if (o.every(Number.isFinite)) imagined.set(o, imaginedCount++ * nx);
            }
          stepCost.fill(0, 0, count);
          cost.addRunning(out, act, count, stepCost);
          for (let k = 0; k < count; k++) total[k]! += disc * stepCost[k]!;
          disc *= opts.discount;
          const swap = state;
          state = out;
          out = swap;
        }
        // Beyond the rollout: the previous round's value, or in round 1 the task's own terminal
        // cost, so round 1 is exactly what a horizon `steps` longer would see.
        if (predictor !== undefined) predictor.predict(state, count, terminal);
        else {
          terminal.fill(0, 0, count);
          cost.addTerminal(state, act, count, terminal);
        }
        for (let k = 0; k < count; k++) total[k]! += disc * terminal[k]!;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < N; j++) {
            const v = total[i * N + j]!;
            order[j] = j;
            if (Number.isFinite(v) && v < best[i]!) best[i] = v;
          }
          if (it + 1 === opts.refinements) continue;
          const slice = order.subarray(0, N);
          slice.sort((x, y) => finiteOr(total[i * N + x]!) - finiteOr(total[i * N + y]!));
          for (let t = 0; t < opts.steps; t++)
            for (let a = 0; a < nu; a++) {
              let mu = 0;
              for (let e = 0; e < elites; e++) mu += seqActs[((i * N + slice[e]!) * opts.steps + t) * nu + a]!;
              mu /= elites;
              let v = 0;
              for (let e = 0; e < elites; e++) v += (seqActs[((i * N + slice[e]!) * opts.steps + t) * nu + a]! - mu) ** 2;
              const g = (i * opts.steps + t) * nu + a;
              seqMean[g] = mu;
              seqStd[g] = Math.max(Math.sqrt(v / elites), 0.05 * opts.noiseStd[a]!);
            }
        }
      }
      for (let i = 0; i < m; i++) targets[s0 + i] = Number.isFinite(best[i]!) ? best[i]! : 0;
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

/** A diverged rollout sorts last. */
function finiteOr(v: number): number {
  return Number.isFinite(v) ? v : Infinity;
}
