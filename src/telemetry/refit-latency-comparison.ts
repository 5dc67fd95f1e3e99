import { Rng } from '../core/rng.js';
import { LatencyStats, quantile } from './latency-stats.js';

/** Ticks per bootstrap block: 5 s at 50 Hz, longer than the bursts a shared host's noise comes in. */
export const BLOCK_TICKS = 250;
const RESAMPLES = 1000;

export interface RefitLatencyEffect {
  /** p99 while a refit ran / p99 while none did. */
  readonly p99_ratio: number;
  /** 95 % interval of that ratio, by a block bootstrap over each side's ticks. */
  readonly p99_ratio_ci95: readonly [number, number];
  /** p50 ratio and its interval, the same way. */
  readonly p50_ratio: number;
  readonly p50_ratio_ci95: readonly [number, number];
  readonly block_ticks: number;
}

/**
 * Planning latency split by whether a refit was running, and how sure the split is. A shared
 * host's latency comes in bursts that outlast a tick, so the ticks are not independent: the
 * interval comes from resampling whole blocks of consecutive ticks of each side (a block
 * bootstrap), and a p99 ratio whose interval holds 1 is a rise that this run cannot tell from
 * the host's own noise.
 */
export class RefitLatencyComparison {
  readonly duringRefit = new LatencyStats();
  readonly noRefit = new LatencyStats();

  add(ms: number, refitting: boolean): void {
    (refitting ? this.duringRefit : this.noRefit).add(ms);
  }

  /** undefined until each side has at least two blocks of ticks. */
  effect(seed = 1): RefitLatencyEffect | undefined {
    const during = this.duringRefit.samples();
    const none = this.noRefit.samples();
    if (during.length < 2 * BLOCK_TICKS || none.length < 2 * BLOCK_TICKS) return undefined;
    const rng = new Rng(seed);
    const p99 = new Float64Array(RESAMPLES);
    const p50 = new Float64Array(RESAMPLES);
    const a = new Float64Array(blocksLength(during.length));
    const b = new Float64Array(blocksLength(none.length));
    for (let r = 0; r < RESAMPLES; r++) {
      resampleBlocks(during, a, rng).sort();
      resampleBlocks(none, b, rng).sort();
      p99[r] = quantile(a, 0.99) / quantile(b, 0.99);
      p50[r] = quantile(a, 0.5) / quantile(b, 0.5);
    }
    p99.sort();
    p50.sort();
    const d = this.duringRefit.summary();
    const n = this.noRefit.summary();
    return {
      p99_ratio: d.p99 / n.p99,
      p99_ratio_ci95: [quantile(p99, 0.025), quantile(p99, 0.975)],
      p50_ratio: d.p50 / n.p50,
      p50_ratio_ci95: [quantile(p50, 0.025), quantile(p50, 0.975)],
      block_ticks: BLOCK_TICKS,
    };
  }
}

function blocksLength(n: number): number {
  return Math.floor(n / BLOCK_TICKS) * BLOCK_TICKS;
}

/** Fills out with whole blocks of src (in tick order) drawn with replacement; returns out. */
function resampleBlocks(src: Float64Array, out: Float64Array, rng: Rng): Float64Array {
  const blocks = Math.floor(src.length / BLOCK_TICKS);
  for (let i = 0; i < blocks; i++) {
    const from = Math.floor(rng.uniform() * (src.length - BLOCK_TICKS + 1));
    out.set(src.subarray(from, from + BLOCK_TICKS), i * BLOCK_TICKS);
  }
  return out;
}
