import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTick, niceTicks } from '../../../src/cli/plot/nice-ticks.js';

test('episode axis: whole-number steps of 1, 2, 5 times a power of ten, covering the data', () => {
  assert.deepEqual(niceTicks(1, 30, 7, true).values, [0, 5, 10, 15, 20, 25, 30]);
  assert.deepEqual(niceTicks(1, 3, 10, true).values, [1, 2, 3]); // never a step below one episode
  assert.deepEqual(niceTicks(1, 1, 6, true).values, [0, 1, 2]); // one episode: widened, not a zero range
});

test('cost axis: round values without float noise, labelled with the decimals the step needs', () => {
  const t = niceTicks(0, 1437, 8);
  assert.equal(t.step, 250);
  assert.deepEqual([t.min, t.max], [0, 1500]);
  assert.equal(formatTick(1200, t), '1,200');
  const small = niceTicks(0.1, 0.3, 5);
  assert.deepEqual(small.values, [0.1, 0.15, 0.2, 0.25, 0.3]);
  assert.deepEqual(small.values.map((v) => formatTick(v, small)), ['0.10', '0.15', '0.20', '0.25', '0.30']);
  const negative = niceTicks(-3, 7, 6);
  assert.ok(negative.min <= -3 && negative.max >= 7);
  assert.ok(!Object.is(negative.values.find((v) => v === 0), -0));
});
