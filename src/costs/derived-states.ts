/**
 * Values computed from a state that costs and success conditions name like states (a point's
 * position and velocity, from forward kinematics). The cost sees each state row extended by them:
 * [state (nx) | derived (names.length)].
 */
export interface DerivedStates {
  readonly names: readonly string[];
  /** states [count, nx] -> out[k * stride + offset + j] for derived value j. */
  compute(states: Float32Array, count: number, out: Float32Array, stride: number, offset: number): void;
}
