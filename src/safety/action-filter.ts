import { TransitionFlags } from '../log/transition-schema.js';
import type { ActionBounds } from '../core/action-vectors.js';

/** Bits set in ActionFilter.apply's result: the transition log's own flag bits. */
export const FilterFlags = {
  clamped: TransitionFlags.clamped,
  rate_limited: TransitionFlags.rate_limited,
  non_finite_replaced: TransitionFlags.non_finite_replaced,
  /** The action filtered was the safety layer's safe action, not the plan's. */
  safe_action_sent: TransitionFlags.safe_action_sent,
} as const;

/** Every bit the filter may set: the bits that describe the action as sent. */
export const FILTER_FLAG_MASK = FilterFlags.clamped | FilterFlags.rate_limited | FilterFlags.non_finite_replaced | FilterFlags.safe_action_sent;

/**
 * The last stage before the actuators, for every action, the safety layer's safe ones included.
 * In order: a non-finite action (NaN or infinity in any component) becomes the configured safe
 * action; then the rate limit against the last action sent; then the bounds, always last, so
 * nothing upstream can push an action out of them.
 */
export class ActionFilter {
  private readonly last: Float32Array; // [nu] last action sent
  private hasLast = false;

  constructor(
    private readonly bounds: ActionBounds,
    private readonly safeValues: Float32Array, // [nu]
    /** Max change per second per action; Infinity where unlimited. */
    private readonly ratePerSecond: Float32Array, // [nu]
    private readonly period: number,
  ) {
    this.last = new Float32Array(safeValues.length);
  }

  /**
   * Forget the last action (a new episode): the next action is not rate limited. Not on a
   * re-arm: the safe action sent before it is the action to ramp from.
   */
  reset(): void {
    this.hasLast = false;
  }

  /** [nu] the configured safe action (a copy). */
  get safeAction(): Float32Array {
    return Float32Array.from(this.safeValues);
  }

  get actionDim(): number {
    return this.safeValues.length;
  }

  /**
   * Filters `action` [nu] in place; returns FilterFlags bits. `isSafeAction`: it is the safety
   * layer's safe action (flagged so, and filtered all the same).
   */
  apply(action: Float32Array, isSafeAction = false): number {
    const nu = this.safeValues.length;
    let flags = isSafeAction ? FilterFlags.safe_action_sent : 0;
    for (let j = 0; j < nu; j++) {
      if (!Number.isFinite(action[j]!)) {
        action.set(this.safeValues);
        flags |= FilterFlags.non_finite_replaced;
        break;
      }
    }
    for (let j = 0; j < nu; j++) {
      let u = action[j]!;
      if (this.hasLast) {
        const maxStep = this.ratePerSecond[j]! * this.period;
        const prev = this.last[j]!;
        if (u > prev + maxStep) {
          u = prev + maxStep;
          flags |= FilterFlags.rate_limited;
        } else if (u < prev - maxStep) {
          u = prev - maxStep;
          flags |= FilterFlags.rate_limited;
        }
      }
      const lo = this.bounds.low[j]!;
      const hi = this.bounds.high[j]!;
      if (u < lo) {
        u = lo;
        flags |= FilterFlags.clamped;
      } else if (u > hi) {
        u = hi;
        flags |= FilterFlags.clamped;
      }
      action[j] = u;
      this.last[j] = u;
    }
    this.hasLast = true;
    return flags;
  }
}
