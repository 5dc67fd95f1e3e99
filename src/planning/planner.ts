import type { ActionBounds } from '../core/action-vectors.js';

// Defined in core (the safety layer shares it); re-exported for the planners.
export type { ActionBounds };

/**
 * The planner lifecycle (as in MuJoCo MPC): allocate once at maximum sizes, `reset`,
 * then per control tick `advance` the warm start by the periods that elapsed, `optimize` from
 * the measured state, and read the first `action`. Nothing allocates after construction.
 */
export interface Planner {
  readonly kind: 'mppi' | 'cem';
  readonly horizon: number;
  readonly actionDim: number;
  /** Forget the warm start: the plan returns to the nominal (zero, clamped to bounds) sequence. */
  reset(): void;
  /** Warm start: shift the plan by `steps` control periods, repeating the last action at the tail. */
  advance(steps: number): void;
  /**
   * Improves the plan from `state` [nx]; returns the best sampled cost of the last iteration
   * (in one object the planner reuses: read it before the next call).
   */
  optimize(state: Float32Array): PlanResult;
  /** Writes the plan's first action [nu] into `out`. */
  action(out: Float32Array): void;
  /** The current plan [H, nu] (a live view, do not keep across calls). */
  readonly plan: Float32Array;
  /** Stops the rollout workers, if any; the planner is unusable afterwards. */
  dispose(): void;
}

export interface PlanResult {
  bestCost: number;
  iterations: number;
}

