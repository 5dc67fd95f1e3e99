import type { Rng } from '../core/rng.js';

/**
 * Draws an episode's initial state: per state name a fixed value or a uniform [low, high]
 * range; states not named start at 0.
 */
export function sampleInitialState(
  spec: Readonly<Record<string, number | readonly [number, number]>>,
  stateNames: readonly string[],
  rng: Rng,
): Float64Array {
  const x0 = new Float64Array(stateNames.length);
  stateNames.forEach((name, i) => {
    const s = spec[name];
    if (s === undefined) return;
    x0[i] = typeof s === 'number' ? s : s[0] + (s[1] - s[0]) * rng.uniform();
  });
  return x0;
}
