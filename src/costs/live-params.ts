/**
 * Task params whose values change while the daemon runs (goals, targets): expressions read them
 * at every evaluation instead of folding them in as constants. `values[i]` is the current value
 * of `names[i]`; whoever owns the params writes it between planner ticks, never during one, so
 * every back-end (JavaScript, the native kernel's constant slots, the GPU's params buffer) sees
 * one value per tick. The array may be a view on a SharedArrayBuffer shared with rollout workers.
 */
export interface LiveParams {
  readonly names: readonly string[];
  /** [names.length] current values */
  readonly values: Float64Array;
}
