/**
 * The dynamics-model contract: batched, in place, on flat Float32Arrays.
 *
 * Layouts (row-major):
 *   states  [count, stateDim]
 *   actions [count, actionDim]
 *   out     [count, stateDim]   (may not alias `states`)
 *
 * `step` advances every sample by one control period `dt` seconds. Implementations allocate
 * their scratch once, for at most `maxBatch` samples, and never inside `step`.
 */
export interface DynamicsModel {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  /** Per state: true where the value is an angle (wrapped, fed to learners as sin/cos). */
  readonly angular: readonly boolean[];
  readonly maxBatch: number;
  step(states: Float32Array, actions: Float32Array, out: Float32Array, count: number, dt: number): void;
}

/**
 * Continuous-time dynamics of a mechanical system with state [q (nq), qdot (nq)]:
 * writes d/dt state into `deriv` for `count` samples. Same layouts as DynamicsModel.
 */
export interface ContinuousDynamics {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  readonly angular: readonly boolean[];
  /** Number of generalized coordinates; stateDim = 2 * nq. */
  readonly nq: number;
  derivatives(states: Float32Array, actions: Float32Array, deriv: Float32Array, count: number): void;
}
