const TWO_PI = 2 * Math.PI;

/** Wraps an angle to [-pi, pi); the guard catches the rounding case that lands on +pi. */
export function wrapAngle(a: number): number {
  const r = a - TWO_PI * Math.floor((a + Math.PI) / TWO_PI);
  return r >= Math.PI ? r - TWO_PI : r;
}
