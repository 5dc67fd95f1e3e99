import type { ResidualSpec } from './residual-spec.js';

/** Per-dimension affine normalization: z = (v - mean) / std. */
export interface Normalizer {
  readonly mean: Float32Array; // [dim]
  readonly std: Float32Array; // [dim], > 0
}

/** One dense layer of every member at once. */
export interface EnsembleLayer {
  readonly weights: Float32Array; // [members, in, out]
  readonly bias: Float32Array; // [members, out]
}

/**
 * A trained residual ensemble as plain data: what the trainer produces, the model store writes,
 * a worker transfers and the planner's predictor loads. No tensors, so it crosses threads and
 * files without a tfjs backend.
 */
export interface EnsembleSnapshot {
  readonly spec: ResidualSpec;
  readonly input: Normalizer; // [inputDim]
  readonly target: Normalizer; // [nx], of s' - f_analytic(s, a)
  /** Hidden layers (ReLU) then the Gaussian head [.., 2 nx]: mean, then raw log-variance. */
  readonly layers: readonly EnsembleLayer[];
  /** Soft bounds of the log-variance, [nx] each (PETS): learned, applied with softplus. */
  readonly maxLogVar: Float32Array;
  readonly minLogVar: Float32Array;
  /** Member indices the planner uses, best on validation first. */
  readonly elites: readonly number[];
}

/** Every Float32Array of a snapshot in one fixed order: the model file's byte layout. */
export function snapshotArrays(s: EnsembleSnapshot): Float32Array[] {
  return [
    s.input.mean,
    s.input.std,
    s.target.mean,
    s.target.std,
    ...s.layers.flatMap((l) => [l.weights, l.bias]),
    s.maxLogVar,
    s.minLogVar,
  ];
}

/** Fits a normalizer to rows of `data` [rows, dim]; a constant column gets std 1. */
export function fitNormalizer(data: Float32Array, rows: number, dim: number): Normalizer {
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let i = 0; i < dim; i++) mean[i]! += data[r * dim + i]!;
  for (let i = 0; i < dim; i++) mean[i]! /= Math.max(rows, 1);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < dim; i++) {
      const d = data[r * dim + i]! - mean[i]!;
      sq[i]! += d * d;
    }
  const std = Float32Array.from(sq, (s) => {
    const v = Math.sqrt(s / Math.max(rows - 1, 1));
    return v > 1e-6 ? v : 1;
  });
  return { mean: Float32Array.from(mean), std };
}

/** In place, rows of data [rows, dim]. */
export function normalizeRows(n: Normalizer, data: Float32Array, rows: number): void {
  const dim = n.mean.length;
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < dim; i++) data[r * dim + i] = (data[r * dim + i]! - n.mean[i]!) / n.std[i]!;
}

/**
 * Folds an input normalizer into a dense layer, so the network takes raw inputs:
 * W' = W / sigma (per input row), b' = b - (mu / sigma) . W. W [in, out], b [out]; returns copies.
 */
export function foldInputNormalizer(n: Normalizer, W: Float32Array, b: Float32Array): { W: Float32Array; b: Float32Array } {
  const inn = n.mean.length;
  const out = b.length;
  const W2 = new Float32Array(W.length);
  const b2 = Float32Array.from(b);
  for (let i = 0; i < inn; i++) {
    const sig = n.std[i]!;
    const mu = n.mean[i]!;
    for (let j = 0; j < out; j++) {
      W2[i * out + j] = W[i * out + j]! / sig;
      b2[j]! -= (mu / sig) * W[i * out + j]!;
    }
  }
  return { W: W2, b: b2 };
}
