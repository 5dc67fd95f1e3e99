import { wrapAngle } from '../core/angles.js';
import type { DynamicsModel } from '../models/dynamics.js';
import type { ResidualDataset } from '../models/residual/ensemble-trainer.js';
import type { EnsembleSnapshot } from '../models/residual/ensemble-snapshot.js';
import { ResidualPredictor } from '../models/residual/residual-predictor.js';
import { inputDim, writeFeatures, type ResidualSpec } from '../models/residual/residual-spec.js';

/**
 * Rows (s, a, s') [n, nx + nu + nx] -> the residual's training data: features of (s, a) and
 * targets s' - f_analytic(s, a), angles differenced on the circle. The analytic model runs in
 * batches of its maxBatch.
 */
export function buildResidualDataset(spec: ResidualSpec, analytic: DynamicsModel, rows: Float32Array, n: number, dt: number): ResidualDataset {
  const nx = spec.stateNames.length;
  const nu = spec.actionNames.length;
  const d = inputDim(spec);
  const features = new Float32Array(n * d);
  const targets = new Float32Array(n * nx);
  forEachBatch(analytic, rows, n, nx, nu, dt, (s, a, pred, start, count) => {
    writeFeatures(spec, s, a, count, features.subarray(start * d));
    for (let k = 0; k < count; k++) {
      const ro = (start + k) * (2 * nx + nu) + nx + nu;
      for (let i = 0; i < nx; i++) {
        const diff = rows[ro + i]! - pred[k * nx + i]!;
        targets[(start + k) * nx + i] = spec.angular[i] ? wrapAngle(diff) : diff;
      }
    }
  });
  return { features, targets, rows: n };
}

/**
 * How well a model predicts s' one step ahead on rows (s, a, s'): the mean over state
 * dimensions of the squared error, each divided by that dimension's variance of the analytic
 * model's error on the same rows. The analytic model alone scores about 1 (plus its bias);
 * a perfect model 0. Comparable across models because the scale comes from the data.
 */
export function predictionScore(analytic: DynamicsModel, predictor: ResidualPredictor | undefined, rows: Float32Array, n: number, dt: number): number {
  const nx = analytic.stateNames.length;
  const nu = analytic.actionNames.length;
  const errAnalytic = new Float64Array(n * nx);
  const errModel = new Float64Array(n * nx);
  forEachBatch(analytic, rows, n, nx, nu, dt, (s, a, pred, start, count) => {
    const own = Float32Array.from(pred.subarray(0, count * nx));
    predictor?.addResidual(s, a, own, count);
    for (let k = 0; k < count; k++) {
      const ro = (start + k) * (2 * nx + nu) + nx + nu;
      for (let i = 0; i < nx; i++) {
        const wrap = (v: number) => (analytic.angular[i] ? wrapAngle(v) : v);
        errAnalytic[(start + k) * nx + i] = wrap(rows[ro + i]! - pred[k * nx + i]!);
        errModel[(start + k) * nx + i] = wrap(rows[ro + i]! - own[k * nx + i]!);
      }
    }
  });
  let score = 0;
  for (let i = 0; i < nx; i++) {
    let mean = 0;
    for (let k = 0; k < n; k++) mean += errAnalytic[k * nx + i]!;
    mean /= n;
    let variance = 0;
    let sq = 0;
    for (let k = 0; k < n; k++) {
      variance += (errAnalytic[k * nx + i]! - mean) ** 2;
      sq += errModel[k * nx + i]! ** 2;
    }
    variance = Math.max(variance / n, 1e-12);
    score += sq / n / variance;
  }
  return score / nx;
}

/** predictionScore of a snapshot (undefined: the analytic model alone); its tensors are freed after. */
export function snapshotScore(analytic: DynamicsModel, snapshot: EnsembleSnapshot | undefined, rows: Float32Array, n: number, dt: number): number {
  const predictor = snapshot === undefined ? undefined : new ResidualPredictor(snapshot, analytic.maxBatch);
  try {
    return predictionScore(analytic, predictor, rows, n, dt);
  } finally {
    predictor?.dispose();
  }
}

/** Runs the analytic model over rows in batches: fn(states, actions, predicted next, first row, count). */
function forEachBatch(
  analytic: DynamicsModel,
  rows: Float32Array,
  n: number,
  nx: number,
  nu: number,
  dt: number,
  fn: (s: Float32Array, a: Float32Array, pred: Float32Array, start: number, count: number) => void,
): void {
  const B = analytic.maxBatch;
  const s = new Float32Array(B * nx);
  const a = new Float32Array(B * nu);
  const pred = new Float32Array(B * nx);
  const rowSize = 2 * nx + nu;
  for (let start = 0; start < n; start += B) {
    const count = Math.min(B, n - start);
    for (let k = 0; k < count; k++) {
      const ro = (start + k) * rowSize;
      s.set(rows.subarray(ro, ro + nx), k * nx);
      a.set(rows.subarray(ro + nx, ro + nx + nu), k * nu);
    }
    analytic.step(s, a, pred, count, dt);
    fn(s, a, pred, start, count);
  }
}
