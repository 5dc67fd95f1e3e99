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
  /**
   * The next steps' samples are [first, first + count) of a population of `total`. Only models
   * that treat samples by their index (an ensemble assigning members) implement it, so that a
   * share of K evaluated on another thread gets the members it would get in one batch.
   * total = 0 resets it: each batch is a whole population.
   */
  setSampleWindow?(first: number, total: number): void;
}

/**
 * Continuous-time dynamics of a mechanical system with state [q (nq), v (nv)]: writes d/dt state
 * into `deriv` for `count` samples. Same layouts as DynamicsModel. Usually nv = nq and v = d/dt q;
 * a system with ball or free joints (rigid-body trees) has unit quaternions in q, nq > nv, and
 * d/dt of each quaternion is 1/2 q (x) (0, w) for its body-frame angular velocity w in v.
 */
export interface ContinuousDynamics {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  readonly angular: readonly boolean[];
  /** Number of position coordinates; stateDim = nq + nv. */
  readonly nq: number;
  /** Number of velocity coordinates; nq where absent. */
  readonly nv?: number;
  /**
   * [nquat, 2] per unit quaternion (w, x, y, z) in q: its index in the state and the index in v
   * (relative to the start of v) of its angular velocity's x. Every other position coordinate,
   * in order, is the integral of the next velocity that no quaternion claims. Integrators
   * renormalize these quaternions after every step. Absent or empty: v = d/dt q.
   */
  readonly quaternions?: readonly number[];
  derivatives(states: Float32Array, actions: Float32Array, deriv: Float32Array, count: number): void;
}
