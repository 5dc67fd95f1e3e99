/**
 * How a learned network sees a state: angles as sin and cos (continuous across the wrap), every
 * other state as its value. Shared by the residual ensemble (which appends the action) and the
 * terminal value.
 */

/** Features per state vector: 2 per angle, 1 per other state. */
export function stateFeatureDim(angular: readonly boolean[]): number {
  return angular.reduce((n, a) => n + (a ? 2 : 1), 0);
}

/** One state's features at out[o..] from states[so..]; returns the next free index of out. */
export function writeStateFeatureRow(angular: readonly boolean[], states: Float32Array, so: number, out: Float32Array, o: number): number {
  for (let i = 0; i < angular.length; i++) {
    const v = states[so + i]!;
    if (angular[i]) {
      out[o++] = Math.sin(v);
      out[o++] = Math.cos(v);
    } else out[o++] = v;
  }
  return o;
}

/** features [count, stateFeatureDim] of states [count, nx]. */
export function writeStateFeatures(angular: readonly boolean[], states: Float32Array, count: number, out: Float32Array): void {
  const nx = angular.length;
  const d = stateFeatureDim(angular);
  for (let k = 0; k < count; k++) writeStateFeatureRow(angular, states, k * nx, out, k * d);
}
