import { stateFeatureDim, writeStateFeatureRow } from '../state-features.js';
import { nativeVectorKernels } from './native-vector-kernels.js';

/**
 * What a residual ensemble is, independent of its weights: the robot's names (a model trained
 * for one robot must never be loaded for another), which states are angles, and the network's
 * shape. Input features per sample, [inputDim]:
 *   for each state: sin and cos if it is angular, else the value; then every action.
 * Output per member, [2 * stateDim]: the normalized residual's mean, then its log-variance.
 */
export interface ResidualSpec {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  readonly angular: readonly boolean[];
  /** Hidden layer widths, e.g. [64, 64]. */
  readonly hidden: readonly number[];
  /** Members trained. */
  readonly members: number;
}

export function inputDim(spec: ResidualSpec): number {
  return stateFeatureDim(spec.angular) + spec.actionNames.length;
}

/** Layer widths from input to output: [in, ...hidden, 2 * nx]. */
export function layerWidths(spec: ResidualSpec): number[] {
  return [inputDim(spec), ...spec.hidden, 2 * spec.stateNames.length];
}

/** Same robot and architecture: one spec's weights fit the other. */
export function sameSpec(a: ResidualSpec, b: ResidualSpec): boolean {
  const eq = (x: readonly unknown[], y: readonly unknown[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(a.stateNames, b.stateNames) && eq(a.actionNames, b.actionNames) && eq(a.angular, b.angular) && eq(a.hidden, b.hidden) && a.members === b.members;
}

/**
 * Writes input features for `count` samples into `out` [count, inputDim].
 * states [count, nx], actions [count, nu]. Raw (un-normalized) features.
 */
export function writeFeatures(spec: ResidualSpec, states: Float32Array, actions: Float32Array, count: number, out: Float32Array): void {
  const nx = spec.stateNames.length;
  const nu = spec.actionNames.length;
  const angular = spec.angular;
  const d = inputDim(spec);
  for (let k = 0; k < count; k++) {
    let o = writeStateFeatureRow(angular, states, k * nx, out, k * d);
    const ao = k * nu;
    for (let j = 0; j < nu; j++) out[o++] = actions[ao + j]!;
  }
}

/** writeFeatures bound to one spec: features [count, inputDim] from states [count, nx], actions [count, nu]. */
export type FeatureWriter = (states: Float32Array, actions: Float32Array, count: number, out: Float32Array) => void;

/**
 * writeFeatures for `spec`, by the native addon where it loads (its sin and cos vectorize across
 * samples; the same float32 values nearly always, an ulp of a double apart at most before
 * rounding), else the TypeScript one; MPCD_NO_NATIVE=1 forces the TypeScript.
 */
export function featureWriter(spec: ResidualSpec): FeatureWriter {
  const kernels = nativeVectorKernels();
  if (kernels === undefined) return (states, actions, count, out) => writeFeatures(spec, states, actions, count, out);
  const angularMask = Uint8Array.from(spec.angular, (a) => (a ? 1 : 0)); // [nx]
  const nx = spec.stateNames.length;
  const nu = spec.actionNames.length;
  return (states, actions, count, out) => kernels.stateFeatures(angularMask, states, nx, actions, nu, count, out);
}
