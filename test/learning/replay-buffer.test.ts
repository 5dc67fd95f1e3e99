import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';

import { TransitionFlags } from '../../src/log/transition-schema.js';
import { ReplayBuffer } from '../../src/learning/replay-buffer.js';

type Row = { state: number[]; action: number[]; next_state: number[]; flags: number };

/** Transition i of a 2-state, 1-action robot, its numbers all derived from i so rows are recognizable. */
const tr = (i: number, flags = 0): Row => ({ state: [i, -i], action: [10 * i], next_state: [i + 0.5, -i - 0.5], flags });
const flat = (rows: Row[]) => rows.flatMap((r) => [...r.state, ...r.action, ...r.next_state]);

test('rows come back oldest first, before and after the ring wraps around', () => {
  const b = new ReplayBuffer(2, 1, 5);
  assert.equal(b.rowSize, 5);
  assert.deepEqual(b.snapshot(), new Float32Array(0));
  for (let i = 0; i < 3; i++) assert.equal(b.add(tr(i)), true);
  assert.equal(b.size, 3);
  assert.deepEqual(Array.from(b.snapshot()), flat([tr(0), tr(1), tr(2)]));
  for (let i = 3; i < 8; i++) b.add(tr(i));
  assert.equal(b.size, 5, 'never more than capacity');
  assert.equal(b.total, 8, 'total counts overwritten rows too');
  assert.deepEqual(Array.from(b.snapshot()), flat([3, 4, 5, 6, 7].map((i) => tr(i))));
  for (let i = 8; i < 10; i++) b.add(tr(i)); // the head lands exactly on the buffer's end
  assert.deepEqual(Array.from(b.snapshot()), flat([5, 6, 7, 8, 9].map((i) => tr(i))));
  assert.equal(b.skipped, 0);
});

test('transitions flagged stale_state or ticks_dropped_before are refused and counted; other flags are clean samples', () => {
  const b = new ReplayBuffer(2, 1, 10);
  b.add(tr(1));
  assert.equal(b.add(tr(2, TransitionFlags.stale_state)), false);
  assert.equal(b.add(tr(3, TransitionFlags.ticks_dropped_before)), false);
  assert.equal(b.add(tr(4, TransitionFlags.clamped | TransitionFlags.stale_state)), false);
  assert.equal(b.skipped, 3);
  const ok = TransitionFlags.clamped | TransitionFlags.rate_limited | TransitionFlags.episode_end;
  assert.equal(b.add(tr(5, ok)), true);
  assert.equal(b.size, 2);
  assert.equal(b.total, 2);
  assert.deepEqual(Array.from(b.snapshot()), flat([tr(1), tr(5)]));
});

test('rows with a non-finite number or the wrong length are refused, counted, and leave no trace', () => {
  const b = new ReplayBuffer(2, 1, 3);
  b.add(tr(1));
  const bad: Row[] = [
    { ...tr(2), state: [Number.NaN, 0] },
    { ...tr(3), action: [Number.POSITIVE_INFINITY] },
    { ...tr(4), next_state: [0, Number.NEGATIVE_INFINITY] },
    { ...tr(5), next_state: [1e39, 0] }, // finite in float64, Infinity in float32
    { ...tr(6), state: [1, 2, 3] },
    { ...tr(7), action: [] },
  ];
  for (const row of bad) assert.equal(b.add(row), false, JSON.stringify(row));
  assert.equal(b.skipped, bad.length);
  assert.equal(b.size, 1);
  assert.equal(b.total, 1);
  b.add(tr(8));
  b.add(tr(9));
  assert.deepEqual(Array.from(b.snapshot()), flat([tr(1), tr(8), tr(9)]), 'the refused rows took no slot');
});

test('a non-finite row refused while the buffer is full leaves the oldest held row intact', () => {
  const b = new ReplayBuffer(2, 1, 3);
  for (let i = 1; i <= 3; i++) b.add(tr(i));
  assert.equal(b.add({ ...tr(4), next_state: [0, Number.NaN] }), false);
  assert.deepEqual(Array.from(b.snapshot()), flat([tr(1), tr(2), tr(3)]));
  b.add(tr(5));
  assert.deepEqual(Array.from(b.snapshot()), flat([tr(2), tr(3), tr(5)]));
});

test('snapshot is a copy: changing it, or adding later, does not change the buffer or an earlier snapshot', () => {
  const b = new ReplayBuffer(2, 1, 4);
  for (let i = 0; i < 6; i++) b.add(tr(i));
  const first = b.snapshot();
  const expected = flat([2, 3, 4, 5].map((i) => tr(i)));
  first.fill(-1);
  assert.deepEqual(Array.from(b.snapshot()), expected);
  const second = b.snapshot();
  b.add(tr(6));
  assert.deepEqual(Array.from(second), expected);
  assert.notEqual(second.buffer, b.snapshot().buffer);
});

test('any sequence of adds: the buffer holds the last `capacity` accepted rows, oldest first (fast-check)', () => {
  const row = fc.record({
    i: fc.integer({ min: -1000, max: 1000 }),
    flags: fc.constantFrom(0, 0, 0, TransitionFlags.clamped, TransitionFlags.stale_state, TransitionFlags.ticks_dropped_before, TransitionFlags.episode_end),
    nan: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 7 }), fc.array(row, { maxLength: 30 }), (capacity, adds) => {
      const b = new ReplayBuffer(2, 1, capacity);
      const accepted: Row[] = [];
      let skipped = 0;
      for (const a of adds) {
        const t = a.nan ? { ...tr(a.i, a.flags), action: [Number.NaN] } : tr(a.i, a.flags);
        const clean = !a.nan && (a.flags & (TransitionFlags.stale_state | TransitionFlags.ticks_dropped_before)) === 0;
        assert.equal(b.add(t), clean);
        if (clean) accepted.push(t);
        else skipped++;
      }
      assert.equal(b.size, Math.min(capacity, accepted.length));
      assert.equal(b.total, accepted.length);
      assert.equal(b.skipped, skipped);
      assert.deepEqual(Array.from(b.snapshot()), flat(accepted.slice(-capacity)));
    }),
    { seed: 42, numRuns: 300 },
  );
});
