/**
 * A cost term adds its weighted cost into a shared per-sample array in place and reports how
 * much it added in total (for diagnostics), as Nav2 MPPI's critics do.
 *
 * Layouts:
 *   states  [count, stateDim]  the state reached after applying `actions`
 *   actions [count, actionDim]
 *   costs   [count]            accumulated into, never overwritten
 */
export interface CostTerm {
  readonly name: string;
  /** Running cost of one horizon step. */
  addRunning(states: Float32Array, actions: Float32Array, count: number, costs: Float32Array): number;
  /** Terminal cost at the horizon's last state (with the last step's actions). */
  addTerminal(states: Float32Array, actions: Float32Array, count: number, costs: Float32Array): number;
}
