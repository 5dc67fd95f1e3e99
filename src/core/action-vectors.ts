/**
 * Per-action vectors from the config's name-keyed maps, in the model's action order: shared
 * vocabulary of the planner and the safety layer (which must work where planning does not, so
 * it cannot take these from the planner).
 */

/** Action bounds per action dimension, [nu] each. */
export interface ActionBounds {
  readonly low: Float32Array;
  readonly high: Float32Array;
}

/** Per-action values from a name-keyed map, in the model's action order. */
export function perAction(map: Readonly<Record<string, number>>, names: readonly string[], fallback = 0): Float32Array {
  return Float32Array.from(names, (n) => map[n] ?? fallback);
}

/** `control.action_bounds` (name -> [low, high]) in action order; a name not in the map is unbounded. */
export function boundsPerAction(map: Readonly<Record<string, readonly [number, number]>>, names: readonly string[]): ActionBounds {
  return {
    low: Float32Array.from(names, (n) => map[n]?.[0] ?? -Infinity),
    high: Float32Array.from(names, (n) => map[n]?.[1] ?? Infinity),
  };
}
