import type { ActionBounds } from './planner.js';

/** Shifts a plan [H, nu] left by `steps`, repeating the last action at the tail. */
export function shiftPlan(plan: Float32Array, horizon: number, nu: number, steps: number): void {
  if (steps <= 0) return;
  const s = Math.min(steps, horizon - 1);
  plan.copyWithin(0, s * nu, horizon * nu);
  for (let t = horizon - s; t < horizon; t++) {
    for (let j = 0; j < nu; j++) plan[t * nu + j] = plan[(horizon - s - 1) * nu + j]!;
  }
}

/** Clamps x into the bounds of its action dimension. */
export function clampAction(x: number, j: number, bounds: ActionBounds): number {
  const lo = bounds.low[j]!;
  const hi = bounds.high[j]!;
  return x < lo ? lo : x > hi ? hi : x;
}

/** The nominal action: zero, moved inside the bounds when zero is outside them. */
export function nominalAction(j: number, bounds: ActionBounds): number {
  return clampAction(0, j, bounds);
}
