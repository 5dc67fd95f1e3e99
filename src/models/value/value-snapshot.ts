import type { EnsembleLayer, Normalizer } from '../residual/ensemble-snapshot.js';
import { stateFeatureDim } from '../state-features.js';

/**
 * A learned terminal value V(s): the discounted cost-to-go from state s, as plain data (crosses
 * threads and files like EnsembleSnapshot). Features of s: sin and cos for angular states, the
 * value otherwise. One MLP: hidden layers with ReLU, then one linear output.
 */
export interface ValueSnapshot {
  readonly stateNames: readonly string[];
  readonly angular: readonly boolean[];
  readonly hidden: readonly number[];
  /** Per-step discount the value was fitted with. */
  readonly discount: number;
  readonly input: Normalizer; // [featureDim]
  readonly target: Normalizer; // [1]
  readonly layers: readonly EnsembleLayer[]; // one member: weights [in, out], bias [out]
}

/** Layer widths from input to output: [featureDim, ...hidden, 1]. */
export function valueLayerWidths(v: Pick<ValueSnapshot, 'angular' | 'hidden'>): number[] {
  return [stateFeatureDim(v.angular), ...v.hidden, 1];
}

/** Every Float32Array of a value snapshot in one fixed order: the value file's byte layout. */
export function valueArrays(v: ValueSnapshot): Float32Array[] {
  return [v.input.mean, v.input.std, v.target.mean, v.target.std, ...v.layers.flatMap((l) => [l.weights, l.bias])];
}
