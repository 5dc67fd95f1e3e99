import type { EnsembleLayer, Normalizer } from '../residual/ensemble-snapshot.js';
import { stateFeatureDim } from '../state-features.js';

/**
 * A learned terminal value V(s): the discounted cost-to-go from state s, as plain data (crosses
 * threads and files like EnsembleSnapshot). Features of s: sin and cos for angular states, the
 * value otherwise. An ensemble of MLPs (hidden layers with ReLU, then one linear output) whose
 * mean is V: the members' errors partly cancel, so a planner that seeks low V is misled less.
 */
export interface ValueSnapshot {
  readonly stateNames: readonly string[];
  readonly angular: readonly boolean[];
  readonly hidden: readonly number[];
  /** Per-step discount the value was fitted with. */
  readonly discount: number;
  /** Networks in the ensemble; V is the mean of their (denormalized) outputs. */
  readonly members: number;
  readonly input: Normalizer; // [featureDim]
  readonly target: Normalizer; // [1]
  readonly layers: readonly EnsembleLayer[]; // stacked: weights [members, in, out], bias [members, out]
}

/** Layer widths from input to output: [featureDim, ...hidden, 1]. */
export function valueLayerWidths(v: Pick<ValueSnapshot, 'angular' | 'hidden'>): number[] {
  return [stateFeatureDim(v.angular), ...v.hidden, 1];
}

/** Member m's layer l, sliced out of the stacked layout. */
export function valueMemberLayer(v: ValueSnapshot, l: number, m: number): EnsembleLayer {
  const layer = v.layers[l]!;
  const out = layer.bias.length / v.members;
  const size = layer.weights.length / v.members;
  return { weights: layer.weights.slice(m * size, (m + 1) * size), bias: layer.bias.slice(m * out, (m + 1) * out) };
}

/** Every Float32Array of a value snapshot in one fixed order: the value file's byte layout. */
export function valueArrays(v: ValueSnapshot): Float32Array[] {
  return [v.input.mean, v.input.std, v.target.mean, v.target.std, ...v.layers.flatMap((l) => [l.weights, l.bias])];
}
