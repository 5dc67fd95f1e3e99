import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { Rng } from '../../../src/core/rng.js';
import { QuadraticTracking } from '../../../src/costs/quadratic-tracking.js';
import { TaskCost } from '../../../src/costs/task-cost.js';
import type { CostTerm } from '../../../src/costs/cost-term.js';
import { ValueTerminalCost } from '../../../src/costs/value-terminal-cost.js';
import { HybridModel } from '../../../src/models/hybrid-model.js';
import { selectTfBackend } from '../../../src/models/residual/tf-backend.js';
import { ValuePredictor } from '../../../src/models/value/value-predictor.js';
import { RolloutEngine } from '../../../src/planning/rollout.js';
import { assertClose } from '../residual/reference-mlp.js';
import { doubleIntegrator, referenceValue, testValueSnapshot } from './value-fixtures.js';

before(async () => {
  await selectTfBackend('auto');
});

const K = 12;
const H = 6;
const DT = 0.1;
const WEIGHT = 0.7;
const x0 = Float32Array.from([0.8, -0.3]);
const value = testValueSnapshot(5, [6], ['x', 'v'], [false, false]);

/** x and v tracked to 0, with a terminal weight of its own, so the task has a terminal cost too. */
const taskCost = () => new TaskCost([new QuadraticTracking('track', 2, [{ index: 0, target: 0, weight: 1, angular: false }, { index: 1, target: 0, weight: 0.2, angular: false }], 1, 5)]);

function randomActions(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: H * K }, () => 2 * rng.uniform() - 1);
}

/** s_H of each sample under the [H, K, 1] actions, stepped one sample at a time. */
function finalStates(model: HybridModel, actions: Float32Array): Float32Array {
  const out = new Float32Array(K * 2);
  for (let k = 0; k < K; k++) {
    let s = Float32Array.from(x0);
    for (let t = 0; t < H; t++) {
      const next = new Float32Array(2);
      model.step(s, actions.subarray(t * K + k, t * K + k + 1), next, 1, DT);
      s = next;
    }
    out.set(s, 2 * k);
  }
  return out;
}

test('with a value installed, the rollout costs are those without it plus weight * V(s_H); without one (or weight 0) it adds nothing', () => {
  const model = new HybridModel(doubleIntegrator(K));
  const actions = randomActions(1);
  const plain = new RolloutEngine(model, taskCost(), K, H, DT, actions);
  const withValue = new RolloutEngine(model, taskCost(), K, H, DT, actions, [new ValueTerminalCost(model, WEIGHT)]);
  const zeroWeight = new RolloutEngine(model, taskCost(), K, H, DT, actions, [new ValueTerminalCost(model, 0)]);
  const evaluate = (e: RolloutEngine) => {
    const costs = new Float32Array(K).fill(Number.NaN);
    e.evaluate(x0, K, costs);
    return costs;
  };
  const base = evaluate(plain);
  assert.ok(base.every((c) => Number.isFinite(c) && c > 0));
  assert.deepEqual(evaluate(withValue), base, 'no value installed yet');

  model.setValue(new ValuePredictor(value, K));
  const sH = finalStates(model, actions);
  const expected = Array.from(base, (c, k) => c + WEIGHT * referenceValue(value, sH.subarray(2 * k, 2 * k + 2)));
  const vs = expected.map((e, k) => e - base[k]!);
  assert.ok(vs.some((v) => Math.abs(v) > 0.1), `the value terms are not negligible: ${vs.join(', ')}`);
  assertClose(evaluate(withValue), expected, 1e-4, 'costs with the value');
  assert.deepEqual(evaluate(plain), base, 'an engine without the penalty ignores the installed value');
  assert.deepEqual(evaluate(zeroWeight), base, 'weight 0 adds nothing');

  model.setValue(undefined);
  assert.deepEqual(evaluate(withValue), base, 'value removed again');
});

test('the value is terminal-only: addRunning adds nothing, and TaskCost.stepCost never includes it', () => {
  const model = new HybridModel(doubleIntegrator(4));
  model.setValue(new ValuePredictor(value, 4));
  try {
    const term: CostTerm = new ValueTerminalCost(model, WEIGHT);
    const states = Float32Array.from([1.5, 0.2, -0.7, 1]);
    const actions = Float32Array.from([0.3, -0.3]);
    const costs = Float32Array.from([1, 2]);
    assert.equal(term.addRunning(states, actions, 2, costs), 0);
    assert.deepEqual(Array.from(costs), [1, 2]);

    const expectedV = [referenceValue(value, [1.5, 0.2]), referenceValue(value, [-0.7, 1])];
    const total = term.addTerminal(states, actions, 2, costs);
    assertClose(costs, [1 + WEIGHT * expectedV[0]!, 2 + WEIGHT * expectedV[1]!], 1e-4, 'addTerminal');
    assertClose([total], [WEIGHT * (expectedV[0]! + expectedV[1]!)], 1e-4, 'reported total');

    // Even a task cost that (wrongly) listed the value as a term keeps it out of real step costs.
    const withTerm = new TaskCost([...taskCost().terms, term]);
    const scratch = new Float32Array(1);
    const next = Float32Array.from([1.5, 0.2]);
    const u = Float32Array.from([0.4]);
    const step = withTerm.stepCost(next, u, scratch);
    assert.equal(step, taskCost().stepCost(next, u, scratch));
    assert.ok(Math.abs(step - (1.5 ** 2 + 0.2 * 0.2 ** 2)) < 1e-5, `step cost ${step} is the tracking cost alone`);
  } finally {
    model.setValue(undefined);
  }
});
