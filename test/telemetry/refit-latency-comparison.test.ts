import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Rng } from '../../src/core/rng.js';
import { BLOCK_TICKS, RefitLatencyComparison } from '../../src/telemetry/refit-latency-comparison.js';

/** Latencies like a shared host's: lognormal ticks, with slow 2 s bursts where every tick is 1.5x. */
function hostLatencies(n: number, seed: number, scale = 1): number[] {
  const rng = new Rng(seed);
  const out: number[] = [];
  let burst = 0;
  for (let i = 0; i < n; i++) {
    if (burst === 0 && rng.uniform() < 0.004) burst = 100;
    const slow = burst > 0 ? 1.5 : 1;
    if (burst > 0) burst--;
    out.push(scale * slow * 8 * Math.exp(0.15 * rng.normal()));
  }
  return out;
}

/** Refit phases of 900 ticks alternating with phases of none, as a run's ticks come. */
function interleaved(c: RefitLatencyComparison, during: number[], none: number[]): void {
  let i = 0;
  let j = 0;
  while (i < during.length || j < none.length) {
    for (let k = 0; k < 900 && i < during.length; k++) c.add(during[i++]!, true);
    for (let k = 0; k < 900 && j < none.length; k++) c.add(none[j++]!, false);
  }
}

describe('RefitLatencyComparison', () => {
  test('no effect: both sides from the same host, the p99 interval holds 1', () => {
    const c = new RefitLatencyComparison();
    interleaved(c, hostLatencies(4000, 1), hostLatencies(4000, 2));
    const e = c.effect()!;
    assert.ok(e.p99_ratio_ci95[0] < 1 && 1 < e.p99_ratio_ci95[1], `interval ${e.p99_ratio_ci95.join(' .. ')}`);
    assert.ok(e.p99_ratio_ci95[0] <= e.p99_ratio && e.p99_ratio <= e.p99_ratio_ci95[1]);
    assert.equal(c.duringRefit.count, 4000);
    assert.equal(c.noRefit.count, 4000);
  });

  test('a refit that slows every tick by 30 %: the p99 and p50 intervals lie above 1', () => {
    const c = new RefitLatencyComparison();
    interleaved(c, hostLatencies(4000, 3, 1.3), hostLatencies(4000, 4));
    const e = c.effect()!;
    assert.ok(e.p99_ratio_ci95[0] > 1.05, `p99 interval ${e.p99_ratio_ci95.join(' .. ')}`);
    assert.ok(e.p50_ratio_ci95[0] > 1.2 && e.p50_ratio_ci95[1] < 1.4, `p50 interval ${e.p50_ratio_ci95.join(' .. ')}`);
  });

  test('fewer than two blocks of ticks on a side: no verdict', () => {
    const c = new RefitLatencyComparison();
    interleaved(c, hostLatencies(2 * BLOCK_TICKS - 1, 5), hostLatencies(4000, 6));
    assert.equal(c.effect(), undefined);
  });

  test('the same ticks give the same interval (seeded)', () => {
    const c = new RefitLatencyComparison();
    interleaved(c, hostLatencies(3000, 7), hostLatencies(3000, 8));
    assert.deepEqual(c.effect(), c.effect());
  });
});
