/**
 * What a planner needs from whatever rolls its samples out: a shared action buffer it writes
 * its K sequences into, and one call that prices them. The single-threaded RolloutEngine and
 * the ParallelRolloutEngine (worker threads, optionally a GPU) both provide it.
 *
 * Layouts:
 *   actions [H, maxSamples, nu]  step-major
 *   costs   [maxSamples]
 */
export interface RolloutEvaluator {
  readonly stateDim: number;
  readonly actionDim: number;
  readonly maxSamples: number;
  readonly horizon: number;
  readonly actions: Float32Array;
  /** costs[k] = total cost of sample k's sequence from x0 [nx], for k < count. */
  evaluate(x0: Float32Array, count: number, costs: Float32Array): void;
  /** Stops worker threads, if any. */
  dispose(): void;
}
