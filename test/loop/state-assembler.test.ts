import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StateAssembler } from '../../src/loop/state-assembler.js';

const channels = [
  { name: 'pos', slots: [0, 1] },
  { name: 'vel', slots: [3, 2] },
];

test('fills each channel into its slots and is complete once all have reported', () => {
  const a = new StateAssembler(4, channels);
  assert.equal(a.complete, false);
  assert.ok(a.accept({ channel: 'pos', stamp: 1, values: [10, 11] }));
  assert.equal(a.complete, false);
  assert.ok(a.accept({ channel: 'vel', stamp: 2, values: [13, 12] }));
  assert.equal(a.complete, true);
  assert.deepEqual(Array.from(a.state), [10, 11, 12, 13]);
  assert.equal(a.oldestStamp, 1);
});

test('late, duplicated-old, malformed and non-finite readings are counted and dropped', () => {
  const a = new StateAssembler(4, channels);
  a.accept({ channel: 'pos', stamp: 5, values: [1, 2] });
  assert.equal(a.accept({ channel: 'pos', stamp: 4, values: [9, 9] }), false); // older
  assert.equal(a.accept({ channel: 'pos', stamp: 6, values: [9] }), false); // wrong length
  assert.equal(a.accept({ channel: 'pos', stamp: 6, values: [Number.NaN, 1] }), false);
  assert.equal(a.accept({ channel: 'nope', stamp: 6, values: [1, 1] }), false);
  assert.equal(a.rejected, 4);
  assert.deepEqual(Array.from(a.state.subarray(0, 2)), [1, 2]);
  a.clear();
  assert.equal(a.complete, false);
});
