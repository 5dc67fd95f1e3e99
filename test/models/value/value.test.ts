import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { Rng } from '../../../src/core/rng.js';
import { selectTfBackend } from '../../../src/models/residual/tf-backend.js';
import { writeStateFeatures } from '../../../src/models/state-features.js';
import { ValuePredictor } from '../../../src/models/value/value-predictor.js';
import { valueMemberLayer, type ValueSnapshot } from '../../../src/models/value/value-snapshot.js';
import { fitValue, type ValueFitOptions } from '../../../src/models/value/value-trainer.js';
import { assertClose } from '../residual/reference-mlp.js';
import { referenceValue, testValueSnapshot } from './value-fixtures.js';

before(async () => {
  await selectTfBackend('auto');
});

/** Float32 arithmetic in another order (normalizers folded into the weights) vs a float64 reference. */
const TOL = 1e-4;

function randomStates(count: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: count * 4 }, (_, i) => (i % 4 === 1 ? (2 * rng.uniform() - 1) * Math.PI : 3 * rng.uniform() - 1.5));
}

function predictAll(p: ValuePredictor, states: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count);
  p.predict(states, count, out);
  return out;
}

for (const [hidden, members] of [[[8, 6], 1], [[5], 1], [[], 1], [[8, 6], 3]] as const) {
  test(`predict equals the float64 reference forward (sin/cos features, both normalizers, ReLU MLP, mean of members), hidden [${hidden.join(', ')}], ${members} member(s)`, () => {
    const v = testValueSnapshot(11 + hidden.length + members, hidden, undefined, undefined, members);
    const p = new ValuePredictor(v, 16);
    try {
      for (const count of [16, 9, 1]) {
        const states = randomStates(count, 100 + count);
        const out = new Float32Array(count + 3).fill(123);
        p.predict(states, count, out);
        const expected = Array.from({ length: count }, (_, k) => referenceValue(v, states.subarray(4 * k, 4 * k + 4)));
        assertClose(out.subarray(0, count), expected, TOL, `count ${count}`);
        assert.deepEqual(Array.from(out.subarray(count)), [123, 123, 123], 'entries past count are untouched');
      }
      // The reference values are spread out, so a constant or a skipped de-normalization cannot match.
      const spread = Array.from({ length: 16 }, (_, k) => referenceValue(v, randomStates(16, 116).subarray(4 * k, 4 * k + 4)));
      assert.ok(Math.max(...spread) - Math.min(...spread) > 1, `reference values vary: ${spread.join(', ')}`);
    } finally {
      p.dispose();
    }
  });
}

test('theta and theta + 2 pi (or - 4 pi) give the same value; x and x + 2 pi do not', () => {
  const v = testValueSnapshot(21);
  const p = new ValuePredictor(v, 4);
  try {
    const base = [0.3, 0.9, -0.2, 1.4];
    const states = Float32Array.from([...base, 0.3, 0.9 + 2 * Math.PI, -0.2, 1.4, 0.3, 0.9 - 4 * Math.PI, -0.2, 1.4, 0.3 + 2 * Math.PI, 0.9, -0.2, 1.4]);
    const out = predictAll(p, states, 4);
    assertClose([out[1]!, out[2]!], [out[0]!, out[0]!], 1e-4, 'wrapped theta');
    assert.ok(Math.abs(out[3]! - out[0]!) > 1e-2, `a non-angular state is not wrapped: ${out[3]} vs ${out[0]}`);
  } finally {
    p.dispose();
  }
});

/** The function to learn: a cart-pole-like cost-to-go in [x, theta], theta angular. */
const trueValue = (x: number, theta: number) => 3 * x * x + 10 * (1 - Math.cos(theta));
const base2 = { stateNames: ['x', 'theta'], angular: [false, true], discount: 0.99 } as const;

function valueSamples(rows: number, seed: number): { states: Float32Array; features: Float32Array; targets: Float32Array } {
  const rng = new Rng(seed);
  const states = Float32Array.from({ length: rows * 2 }, (_, i) => (i % 2 === 0 ? 2 * rng.uniform() - 1 : (2 * rng.uniform() - 1) * Math.PI));
  const features = new Float32Array(rows * 3);
  writeStateFeatures(base2.angular, states, rows, features);
  const targets = Float32Array.from({ length: rows }, (_, k) => trueValue(states[2 * k]!, states[2 * k + 1]!));
  return { states, features, targets };
}

const fitOpts: ValueFitOptions = { hidden: [32, 32], members: 1, maxEpochs: 40, batchSize: 64, learningRate: 5e-3, patience: 10, validationFraction: 0.1, seed: 7 };

test('fitValue learns V = 3 x^2 + 10 (1 - cos theta) from 3000 samples and reproduces it on fresh states', () => {
  const { features, targets } = valueSamples(3000, 1);
  const fit = fitValue(base2, features, targets, 3000, fitOpts);
  // validationMse is in normalized target units: a fraction of the target's variance.
  assert.ok(fit.validationMse < 2e-3, `validation mse ${fit.validationMse} (normalized)`);
  assert.ok(fit.epochs >= 1 && fit.epochs <= fitOpts.maxEpochs);
  assert.deepEqual(fit.snapshot.hidden, [32, 32]);
  assert.deepEqual(fit.snapshot.stateNames, base2.stateNames);
  assert.equal(fit.snapshot.discount, 0.99);

  const fresh = valueSamples(500, 2);
  const p = new ValuePredictor(fit.snapshot, 500);
  try {
    const out = predictAll(p, fresh.states, 500);
    // V spans 0..23; allow 2.5% of that range pointwise and 1% RMS (a good fit is ~4x inside both).
    let sq = 0;
    for (let k = 0; k < 500; k++) {
      const err = out[k]! - fresh.targets[k]!;
      assert.ok(Math.abs(err) < 0.025 * 23, `state (${fresh.states[2 * k]}, ${fresh.states[2 * k + 1]}): V ${out[k]}, expected ${fresh.targets[k]}`);
      sq += err * err;
    }
    const rms = Math.sqrt(sq / 500);
    assert.ok(rms < 0.01 * 23, `rms error ${rms}`);
    // The wrap is learned for free: theta = pi is the top whichever way it is written.
    const top = predictAll(p, Float32Array.from([0, Math.PI, 0, -Math.PI, 0, 3 * Math.PI]), 3);
    assertClose(top, [top[0]!, top[0]!, top[0]!], 1e-4, 'theta = pi, -pi, 3 pi');
    assert.ok(Math.abs(top[0]! - 20) < 0.6, `V(0, pi) = ${top[0]}, expected 20`);
  } finally {
    p.dispose();
  }
});

test('fitValue is deterministic for a seed: same seed, identical weights; another seed, other weights', () => {
  const { features, targets } = valueSamples(400, 3);
  const opts = { ...fitOpts, hidden: [8], maxEpochs: 3, patience: 100 };
  const a = fitValue(base2, features, targets, 400, opts);
  const b = fitValue(base2, features, targets, 400, opts);
  const c = fitValue(base2, features, targets, 400, { ...opts, seed: 8 });
  assert.deepEqual(b.snapshot, a.snapshot);
  assert.equal(b.validationMse, a.validationMse);
  assert.notDeepEqual(c.snapshot.layers, a.snapshot.layers);
});

test('fitValue with 3 members: each starts from its own weights, V is their mean, and the mean fits', () => {
  const { features, targets } = valueSamples(1500, 4);
  const fit = fitValue(base2, features, targets, 1500, { ...fitOpts, members: 3, maxEpochs: 25 });
  const v = fit.snapshot;
  assert.equal(v.members, 3);
  const first = v.layers[0]!;
  const size = first.weights.length / 3;
  assert.equal(size, 3 * 32, 'first layer stacked [members, features, 32]');
  assert.notDeepEqual(first.weights.subarray(0, size), first.weights.subarray(size, 2 * size));
  // The ensemble's V is the mean of the members' own values.
  const member = (m: number): ValueSnapshot => ({
    ...v,
    members: 1,
    layers: v.layers.map((_, l) => valueMemberLayer(v, l, m)),
  });
  const fresh = valueSamples(200, 5);
  const predict = (s: ValueSnapshot) => {
    const p = new ValuePredictor(s, 200);
    try {
      return predictAll(p, fresh.states, 200);
    } finally {
      p.dispose();
    }
  };
  const mean = predict(v);
  const parts = [0, 1, 2].map((m) => predict(member(m)));
  assertClose(mean, Array.from(mean, (_, k) => (parts[0]![k]! + parts[1]![k]! + parts[2]![k]!) / 3), 1e-3, 'mean of members');
  let sq = 0;
  for (let k = 0; k < 200; k++) sq += (mean[k]! - fresh.targets[k]!) ** 2;
  assert.ok(Math.sqrt(sq / 200) < 0.02 * 23, `rms error ${Math.sqrt(sq / 200)} of a V spanning 0..23`);
});
