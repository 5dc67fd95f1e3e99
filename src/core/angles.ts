const TWO_PI = 2 * Math.PI;

/** Wraps an angle to [-pi, pi). */
export function wrapAngle(a: number): number {
  return a - TWO_PI * Math.floor((a + Math.PI) / TWO_PI);
}
