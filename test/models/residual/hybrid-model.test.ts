import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { QuadraticTracking } from '../../../src/costs/quadratic-tracking.js';
import { TaskCost } from '../../../src/costs/task-cost.js';
import { UncertaintyPenalty } from '../../../src/costs/uncertainty-penalty.js';
import { Rng } from '../../../src/core/rng.js';
import type { Transition } from '../../../src/log/transition-schema.js';
import { TransitionRecorder } from '../../../src/loop/transition-recorder.js';
import { cartpole, cartpoleParams } from '../../../src/models/analytic/cartpole.js';
import { HybridModel } from '../../../src/models/hybrid-model.js';
import { discretize } from '../../../src/models/integrators.js';
import { ResidualPredictor } from '../../../src/models/residual/residual-predictor.js';
import { tfjsMlpKernel } from '../../../src/models/residual/tfjs-mlp-kernel.js';
import { tf, selectTfBackend } from '../../../src/models/residual/tf-backend.js';
import { RolloutEngine } from '../../../src/planning/rollout.js';
import { testSnapshot } from './fixtures.js';

before(async () => {
  await selectTfBackend('auto');
});

const NX = 4;
const DT = 0.02;
const K = 12;
const analytic = () => discretize(cartpole(cartpoleParams.parse({})), 'rk4', 1, 16);

function batch(count: number, seed: number): { states: Float32Array; actions: Float32Array } {
  const rng = new Rng(seed);
  return {
    states: Float32Array.from({ length: count * NX }, () => 2 * rng.uniform() - 1),
    actions: Float32Array.from({ length: count }, () => 2 * rng.uniform() - 1),
  };
}

/** The task: keep the pole up and the cart centred. */
const taskCost = () =>
  new TaskCost([
    new QuadraticTracking(
      'upright',
      NX,
      [
        { index: 0, target: 0, weight: 1, angular: false },
        { index: 1, target: 0, weight: 10, angular: true },
      ],
      1,
      5,
    ),
  ]);

test('without a residual the hybrid model is the analytic model exactly, at version 0', () => {
  const model = new HybridModel(analytic());
  const reference = analytic();
  assert.equal(model.version, 0);
  assert.equal(model.residual, undefined);
  const { states, actions } = batch(K, 1);
  const out = new Float32Array(K * NX);
  const expected = new Float32Array(K * NX);
  model.trackDisagreement = true;
  model.disagreement.fill(7);
  model.step(states, actions, out, K, DT);
  reference.step(states, actions, expected, K, DT);
  assert.deepEqual(out, expected);
  assert.deepEqual(Array.from(model.disagreement.subarray(0, K)), new Array<number>(K).fill(0), 'no residual, no disagreement');
});

test('after setResidual, step = analytic + residual and version is the one given; setting none returns to the analytic model', () => {
  const model = new HybridModel(analytic());
  const reference = analytic();
  const snapshot = testSnapshot(2, 0.1);
  const predictor = new ResidualPredictor(snapshot, 16);
  const check = new ResidualPredictor(snapshot, 16);
  try {
    model.setResidual(predictor, 7);
    assert.equal(model.version, 7);
    assert.equal(model.residual, predictor);
    const { states, actions } = batch(K, 2);
    const out = new Float32Array(K * NX);
    model.step(states, actions, out, K, DT);
    const analyticNext = new Float32Array(K * NX);
    reference.step(states, actions, analyticNext, K, DT);
    const residual = new Float32Array(K * NX);
    check.addResidual(states, actions, residual, K);
    assert.ok(residual.some((v) => Math.abs(v) > 1e-3), 'the residual is not negligible');
    assert.deepEqual(out, Float32Array.from(analyticNext, (v, i) => v + residual[i]!));

    model.setResidual(undefined, 9);
    assert.equal(model.version, 0, 'no residual is version 0, whatever version is passed');
    model.step(states, actions, out, K, DT);
    assert.deepEqual(out, analyticNext);
  } finally {
    check.dispose();
  }
});

test("setResidual frees the replaced predictor's tensors (tfjs kernel)", async () => {
  const kernel = await tfjsMlpKernel();
  const model = new HybridModel(analytic());
  const baseline = tf.memory().numTensors;
  const first = new ResidualPredictor(testSnapshot(3, 0.1), 16, kernel);
  const perPredictor = tf.memory().numTensors - baseline;
  assert.ok(perPredictor > 0, 'a predictor holds tensors');
  model.setResidual(first, 1);
  for (let v = 2; v <= 5; v++) {
    model.setResidual(new ResidualPredictor(testSnapshot(3 + v, 0.1), 16, kernel), v);
    assert.equal(tf.memory().numTensors - baseline, perPredictor, `after swap to v${v} only one predictor's tensors remain`);
  }
  const current = model.residual!;
  model.setResidual(current, 6);
  assert.equal(tf.memory().numTensors - baseline, perPredictor, 're-installing the same predictor keeps it');
  assert.equal(model.version, 6);
  const { states, actions } = batch(K, 3);
  const stepping = new Float32Array(K * NX);
  model.step(states, actions, stepping, K, DT); // still usable: not disposed
  assert.equal(tf.memory().numTensors - baseline, perPredictor, 'a step leaks no tensors');
  model.setResidual(undefined, 0);
  assert.equal(tf.memory().numTensors, baseline, 'removing the residual frees everything');
});

test('a RolloutEngine with an UncertaintyPenalty adds weight * disagreement per horizon step; the task cost of a real transition never includes it', () => {
  const H = 5;
  const WEIGHT = 2.5;
  const model = new HybridModel(analytic());
  model.setResidual(new ResidualPredictor(testSnapshot(11, 0.1), 16), 4);
  const cost = taskCost();
  const rng = new Rng(4);
  const actions = Float32Array.from({ length: H * K }, () => 2 * rng.uniform() - 1); // [H, K, nu]
  const x0 = Float32Array.from([0.1, 2.8, 0, 0.3]);
  const penalty = new UncertaintyPenalty(model, WEIGHT);
  assert.equal(model.trackDisagreement, true, 'a positive weight turns the disagreement on');
  const withPenalty = new RolloutEngine(model, cost, K, H, DT, actions, [penalty]);
  const without = new RolloutEngine(model, cost, K, H, DT, actions);
  const costsWith = new Float32Array(K);
  const costsWithout = new Float32Array(K);
  withPenalty.evaluate(x0, K, costsWith);
  without.evaluate(x0, K, costsWithout);

  // The disagreement summed along each sample's own rollout, stepped by hand.
  const summed = new Float64Array(K);
  let cur = new Float32Array(K * NX);
  for (let k = 0; k < K; k++) cur.set(x0, k * NX);
  for (let t = 0; t < H; t++) {
    const next = new Float32Array(K * NX);
    model.step(cur, actions.subarray(t * K, (t + 1) * K), next, K, DT);
    for (let k = 0; k < K; k++) summed[k]! += model.disagreement[k]!;
    cur = next;
  }
  for (let k = 0; k < K; k++) {
    assert.ok(summed[k]! > 1e-3, `sample ${k}: the members disagree`);
    const added = costsWith[k]! - costsWithout[k]!;
    const expected = WEIGHT * summed[k]!;
    assert.ok(Math.abs(added - expected) <= 1e-5 * (Math.abs(costsWith[k]!) + expected) + 1e-6, `sample ${k}: penalty added ${added}, expected ${expected}`);
  }

  // A real transition is priced by the task alone, though the model's disagreement is non-zero now.
  assert.ok(model.disagreement.subarray(0, K).some((d) => d > 1e-3));
  const s = Float32Array.from([0.2, 0.5, 0.1, -0.3]);
  const sNext = Float32Array.from([0.25, 0.4, 0.2, -0.2]);
  const a = Float32Array.from([0.5]);
  const taskOnly = 1 * 0.25 ** 2 + 10 * Math.fround(0.4) ** 2;
  const priced = cost.stepCost(sNext, a, new Float32Array(1));
  assert.ok(Math.abs(priced - taskOnly) < 1e-5, `stepCost ${priced}, task alone ${taskOnly}`);
  const recorded: Transition[] = [];
  const recorder = new TransitionRecorder(cost, (tr) => recorded.push(tr), 0, 0, () => model.version);
  const step = (state: Float32Array, action: Float32Array | undefined, index: number) =>
    recorder.onStep({ index, due: index * 20, state, stateStamp: index * DT, action, flags: 0, planMs: 1, dropped: 0 });
  step(s, a, 0);
  step(sNext, undefined, 1);
  assert.equal(recorded.length, 1);
  assert.ok(Math.abs(recorded[0]!.cost - taskOnly) < 1e-5, `recorded cost ${recorded[0]!.cost}, task alone ${taskOnly}`);
  assert.equal(recorded[0]!.model_version, 4);
});
