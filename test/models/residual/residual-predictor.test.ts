import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { Rng } from '../../../src/core/rng.js';
import type { EnsembleSnapshot } from '../../../src/models/residual/ensemble-snapshot.js';
import { ResidualPredictor } from '../../../src/models/residual/residual-predictor.js';
import { selectTfBackend } from '../../../src/models/residual/tf-backend.js';
import { testSnapshot } from './fixtures.js';
import { assertClose, referenceDisagreement, referenceResidual } from './reference-mlp.js';

before(async () => {
  await selectTfBackend('auto');
});

const NX = 4;
const NU = 1;
/** Float32 arithmetic in another order (normalizers folded into the weights) vs a float64 reference. */
const TOL = 1e-4;

function randomBatch(count: number, seed: number): { states: Float32Array; actions: Float32Array } {
  const rng = new Rng(seed);
  const states = Float32Array.from({ length: count * NX }, (_, i) => (i % NX === 1 ? (2 * rng.uniform() - 1) * Math.PI : 2 * rng.uniform() - 1));
  const actions = Float32Array.from({ length: count * NU }, () => 2 * rng.uniform() - 1);
  return { states, actions };
}

const row = (a: Float32Array, k: number, width: number) => a.subarray(k * width, (k + 1) * width);

/** The member sample k must use: contiguous blocks of ceil(count / E), one per elite (TS-infinity). */
const memberOf = (s: EnsembleSnapshot, k: number, count: number) => s.elites[Math.floor(k / Math.ceil(count / s.elites.length))]!;

/** Checks out - before == the reference residual of each sample's own member. */
function assertOwnMembers(s: EnsembleSnapshot, states: Float32Array, actions: Float32Array, before: Float32Array, out: Float32Array, count: number, what: string): void {
  for (let k = 0; k < count; k++) {
    const added = Array.from(row(out, k, NX), (v, i) => v - before[k * NX + i]!);
    assertClose(added, referenceResidual(s, memberOf(s, k, count), row(states, k, NX), row(actions, k, NU)), TOL, `${what}, sample ${k}`);
  }
}

test('the reference members differ, so matching one of them identifies the member', () => {
  const s = testSnapshot(1);
  const { states, actions } = randomBatch(4, 2);
  for (let k = 0; k < 4; k++) {
    const [a, b, c] = s.elites.map((m) => referenceResidual(s, m, row(states, k, NX), row(actions, k, NU)));
    for (const [x, y] of [[a!, b!], [b!, c!], [a!, c!]] as const) assert.ok(x.some((v, i) => Math.abs(v - y[i]!) > 100 * TOL * (1 + Math.abs(y[i]!))), `sample ${k}: two members agree`);
  }
});

for (const count of [12, 10, 7, 2]) {
  test(`addResidual adds the mean residual of member elites[floor(k / ceil(count / E))], count ${count} of 3 elites`, () => {
    const s = testSnapshot(1);
    const p = new ResidualPredictor(s, 16);
    try {
      const { states, actions } = randomBatch(count, 10 + count);
      const before = Float32Array.from({ length: count * NX }, (_, i) => 0.5 * i - 3); // out is added into, not overwritten
      const out = Float32Array.from(before);
      const beyond = new Float32Array(4).fill(123);
      const padded = new Float32Array(count * NX + 4);
      padded.set(out);
      padded.set(beyond, count * NX);
      p.addResidual(states, actions, padded, count);
      assertOwnMembers(s, states, actions, before, padded.subarray(0, count * NX), count, `count ${count}`);
      assert.deepEqual(Array.from(padded.subarray(count * NX)), Array.from(beyond), 'rows past count are untouched');
    } finally {
      p.dispose();
    }
  });
}

test('each sample keeps its member across the calls of a horizon (TS-infinity), and the same batch gives the same result twice', () => {
  const s = testSnapshot(3);
  const count = 10;
  const p = new ResidualPredictor(s, 16);
  try {
    let { states, actions } = randomBatch(count, 99);
    const rng = new Rng(5);
    for (let t = 0; t < 6; t++) {
      const out = Float32Array.from(states); // s' = s + residual: a rollout through the residual alone
      p.addResidual(states, actions, out, count);
      assertOwnMembers(s, states, actions, states, out, count, `step ${t}`);
      const again = Float32Array.from(states);
      p.addResidual(states, actions, again, count);
      assert.deepEqual(again, out, `step ${t}: repeated call`);
      states = out;
      actions = Float32Array.from(actions, () => 2 * rng.uniform() - 1);
    }
  } finally {
    p.dispose();
  }
});

test("with a disagreement array: each sample still gets its own member's residual, and disagreement[k] is the members' variance of the normalized mean summed over dimensions", () => {
  const s = testSnapshot(4);
  for (const count of [9, 10]) {
    const p = new ResidualPredictor(s, 16);
    try {
      const { states, actions } = randomBatch(count, 40 + count);
      const before = Float32Array.from({ length: count * NX }, (_, i) => Math.cos(i));
      const out = Float32Array.from(before);
      const disagreement = new Float32Array(count).fill(Number.NaN);
      p.addResidual(states, actions, out, count, disagreement);
      assertOwnMembers(s, states, actions, before, out, count, `count ${count} with disagreement`);
      const expected = Array.from({ length: count }, (_, k) => referenceDisagreement(s, row(states, k, NX), row(actions, k, NU)));
      assert.ok(expected.every((v) => v > 1e-3), 'random members disagree');
      assertClose(disagreement, expected, 1e-3, `count ${count}: disagreement`);
    } finally {
      p.dispose();
    }
  }
});

test('a single elite never disagrees with itself', () => {
  const s = { ...testSnapshot(6), elites: [2] };
  const p = new ResidualPredictor(s, 8);
  try {
    const { states, actions } = randomBatch(5, 7);
    const out = new Float32Array(5 * NX);
    const disagreement = new Float32Array(5).fill(Number.NaN);
    p.addResidual(states, actions, out, 5, disagreement);
    assert.deepEqual(Array.from(disagreement), [0, 0, 0, 0, 0]);
    assertOwnMembers(s, states, actions, new Float32Array(5 * NX), out, 5, 'single elite');
  } finally {
    p.dispose();
  }
});

test('angular states enter as sin and cos: theta and theta + 2 pi give the same residual; x and x + 2 pi do not', () => {
  const s = testSnapshot(8);
  const p = new ResidualPredictor(s, 8);
  try {
    // Two copies of one state per call: 2 samples over 3 elites -> sample 0 is always elites[0].
    const residualOf = (state: number[]): Float32Array => {
      const states = Float32Array.from([...state, ...state]);
      const out = new Float32Array(2 * NX);
      p.addResidual(states, Float32Array.from([0.3, 0.3]), out, 2);
      return out.subarray(0, NX);
    };
    const base = [0.2, 0.7, -0.4, 1.1];
    const r0 = residualOf(base);
    const wrappedUp = residualOf([0.2, 0.7 + 2 * Math.PI, -0.4, 1.1]);
    const wrappedDown = residualOf([0.2, 0.7 - 4 * Math.PI, -0.4, 1.1]);
    assertClose(wrappedUp, r0, 1e-4, 'theta + 2 pi');
    assertClose(wrappedDown, r0, 1e-4, 'theta - 4 pi');
    const shiftedX = residualOf([0.2 + 2 * Math.PI, 0.7, -0.4, 1.1]);
    assert.ok(shiftedX.some((v, i) => Math.abs(v - r0[i]!) > 1e-2), 'a non-angular state is not wrapped');
  } finally {
    p.dispose();
  }
});
