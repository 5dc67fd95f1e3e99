/**
 * Splits `count` samples into `parts` contiguous shares as equal as possible, the first shares
 * one larger. Writes share i as [starts[i], starts[i + 1]) into `starts` [parts + 1].
 */
export function splitShares(count: number, parts: number, starts: Int32Array): void {
  const base = Math.floor(count / parts);
  const extra = count - base * parts;
  starts[0] = 0;
  for (let i = 0; i < parts; i++) starts[i + 1] = starts[i]! + base + (i < extra ? 1 : 0);
}

/** The most samples one of `parts` shares can get out of `maxCount`. */
export function maxShare(maxCount: number, parts: number): number {
  return Math.ceil(maxCount / parts);
}
