import assert from 'node:assert/strict';
import { test } from 'node:test';

import { buildResidualDataset, predictionScore } from '../../../src/learning/residual-dataset.js';
import { snapshotArrays } from '../../../src/models/residual/ensemble-snapshot.js';
import { trainEnsemble, type TrainOptions } from '../../../src/models/residual/ensemble-trainer.js';
import { ResidualPredictor } from '../../../src/models/residual/residual-predictor.js';
import type { ResidualSpec } from '../../../src/models/residual/residual-spec.js';
import { selectTfBackend } from '../../../src/models/residual/tf-backend.js';
import { DT, ROW, nominalModel, plantTransitions, robotModel } from '../../learning/mismatch-robot.js';

await selectTfBackend('auto');

const spec: ResidualSpec = { stateNames: ['x', 'theta', 'x_dot', 'theta_dot'], actionNames: ['u'], angular: [false, true, false, false], hidden: [32, 32], members: 4 };
const opts: TrainOptions = {
  elites: 3,
  maxEpochs: 30,
  batchSize: 32,
  learningRate: 3e-3,
  weightDecay: 1e-5,
  patience: 30,
  validationFraction: 0.15,
  seed: 17,
  maxSeconds: 60,
};
const TRAIN = 400;
const HELD = 200;
const nominal = nominalModel();
const { rows } = plantTransitions(robotModel(), TRAIN + HELD, 5);
const train = buildResidualDataset(spec, nominal, rows, TRAIN, DT);
const held = rows.subarray(TRAIN * ROW);
const first = trainEnsemble(spec, train, opts);

test('a small training on the mismatched robot predicts held-out transitions far better than the analytic model', () => {
  const analyticScore = predictionScore(nominal, undefined, held, HELD, DT);
  const predictor = new ResidualPredictor(first.snapshot, 1024);
  try {
    const score = predictionScore(nominal, predictor, held, HELD, DT);
    assert.ok(analyticScore >= 1, `the analytic model alone scores ~1 plus its bias, got ${analyticScore}`);
    assert.ok(score < 0.5, `the hybrid model scores ${score} (analytic ${analyticScore})`);
  } finally {
    predictor.dispose();
  }
  assert.equal(first.report.rows, TRAIN);
  assert.equal(first.report.epochs, opts.maxEpochs);
  assert.equal(first.report.stoppedBy, 'max_epochs');
});

test('elites are the members with the lowest validation MSE, best first', () => {
  const mse = first.report.memberValidationMse;
  assert.equal(mse.length, spec.members);
  assert.ok(mse.every((v) => Number.isFinite(v) && v > 0 && v < 1), `normalized targets have variance ~1; a trained member is below: ${mse.join(', ')}`);
  const ranked = mse.map((v, m) => ({ v, m })).sort((a, b) => a.v - b.v || a.m - b.m).map((x) => x.m);
  assert.deepEqual(first.report.elites, ranked.slice(0, opts.elites));
  assert.deepEqual(first.snapshot.elites, first.report.elites);
  assert.notDeepEqual(first.report.elites, [0, 1, 2], 'this seed ranks members out of index order, so the test tells sorted from unsorted');
});

test('the same seed trains bit-identical weights; another seed does not', () => {
  const short = { ...opts, maxEpochs: 4 };
  const once = trainEnsemble(spec, train, short);
  const again = trainEnsemble(spec, train, short);
  const a = snapshotArrays(once.snapshot);
  const b = snapshotArrays(again.snapshot);
  assert.equal(a.length, b.length);
  a.forEach((arr, i) => assert.deepEqual(b[i], arr, `array ${i}`));
  assert.deepEqual(again.report.memberValidationMse, once.report.memberValidationMse);
  assert.deepEqual(again.snapshot.elites, once.snapshot.elites);
  const other = trainEnsemble(spec, train, { ...short, seed: 18 });
  assert.notDeepEqual(snapshotArrays(other.snapshot)[4], a[4], 'a different seed gives different weights');
});

test("members are trained apart: every pair of members' weights differ in every layer", () => {
  for (const [l, layer] of first.snapshot.layers.entries()) {
    const per = layer.weights.length / spec.members;
    const member = (m: number) => layer.weights.subarray(m * per, (m + 1) * per);
    for (let i = 0; i < spec.members; i++)
      for (let j = i + 1; j < spec.members; j++) {
        const a = member(i);
        const b = member(j);
        let diff = 0;
        for (let k = 0; k < per; k++) diff += (a[k]! - b[k]!) ** 2;
        assert.ok(diff > 1e-6 * per, `layer ${l}: members ${i} and ${j} have the same weights`);
      }
  }
});
