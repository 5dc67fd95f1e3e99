import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { selectBest } from '../../src/planning/select-best.js';

test('selectBest gives the first m of a stable sort by cost, for any n, m, ties and infinities', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 400; trial++) {
    const n = 1 + Math.floor(rng.uniform() * 300);
    const m = Math.floor(rng.uniform() * (n + 3));
    const costs = new Float32Array(n + 5);
    const levels = 1 + Math.floor(rng.uniform() * 20); // few levels: many ties
    for (let k = 0; k < costs.length; k++) costs[k] = rng.uniform() < 0.05 ? 3.4e38 : Math.floor(rng.uniform() * levels) - levels / 2;
    const order = Int32Array.from({ length: n + 5 }, (_, k) => k);
    const want = Array.from({ length: n }, (_, k) => k).sort((a, b) => costs[a]! - costs[b]! || a - b).slice(0, Math.min(m, n));
    selectBest(order, n, m, costs);
    assert.deepEqual(Array.from(order.subarray(0, Math.min(m, n))), want, `n ${n} m ${m}`);
    assert.deepEqual(Array.from(order.subarray(0, n)).sort((a, b) => a - b), Array.from({ length: n }, (_, k) => k), 'a permutation of the samples');
    assert.deepEqual(Array.from(order.subarray(n)), [n, n + 1, n + 2, n + 3, n + 4], 'nothing past n touched');
  }
});
