/** x rounded to `digits` decimals, for human-sized numbers in CLI output. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
