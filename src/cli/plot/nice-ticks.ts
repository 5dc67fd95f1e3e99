/**
 * "Nice" axis ticks (Heckbert, Graphics Gems 1990): a step of 1, 2, 2.5 or 5 times a power of
 * ten, and an axis range widened outwards to whole steps, so tick labels read as round numbers.
 */
export interface Ticks {
  /** Axis range: the first and last tick. */
  readonly min: number;
  readonly max: number;
  readonly step: number;
  readonly values: readonly number[];
  /** Decimals needed to print every tick without float noise (0.30000000000000004). */
  readonly decimals: number;
}

/**
 * Ticks covering [lo, hi] with about `target` values. `integer` keeps the step a whole number
 * (for counts such as episodes). A degenerate range (lo == hi) is widened around its value.
 */
export function niceTicks(lo: number, hi: number, target = 6, integer = false): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`niceTicks: range [${lo}, ${hi}] is not finite`);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  let step = niceStep((hi - lo) / Math.max(1, target - 1));
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const decimals = stepDecimals(step);
  const values: number[] = [];
  for (let i = first; i <= last; i++) values.push(clean(i * step, decimals));
  return { min: values[0] ?? lo, max: values.at(-1) ?? hi, step, values, decimals };
}

function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const f = raw / magnitude;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * magnitude;
}

function stepDecimals(step: number): number {
  for (let d = 0; d < 12; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-6) return d;
  return 12;
}

/** Rounds away float noise and turns -0 into 0. */
function clean(v: number, decimals: number): number {
  const r = Number(v.toFixed(decimals));
  return r === 0 ? 0 : r;
}

/** A tick label: thousands separated ("12,500"), exactly the decimals the step needs. */
export function formatTick(value: number, ticks: Ticks): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: ticks.decimals, maximumFractionDigits: ticks.decimals });
}
