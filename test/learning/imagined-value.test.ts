import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { Rng } from '../../src/core/rng.js';
import { QuadraticTracking } from '../../src/costs/quadratic-tracking.js';
import { TaskCost } from '../../src/costs/task-cost.js';
import { fitImaginedValue, type ImaginedValueOptions } from '../../src/learning/imagined-value.js';
import { selectTfBackend } from '../../src/models/residual/tf-backend.js';
import { ValuePredictor } from '../../src/models/value/value-predictor.js';
import { doubleIntegrator } from '../models/value/value-fixtures.js';

before(async () => {
  await selectTfBackend('auto');
});

const DT = 0.1;
/** Running cost x^2: the goal is x = 0, and with |u| <= 1 a far start pays for many steps. */
const cost = new TaskCost([new QuadraticTracking('x2', 2, [{ index: 0, target: 0, weight: 1, angular: false }], 1, 0)]);

/** "Logged" transitions (s, a, s') [n, 5] from random states in x in [-2, 2], v in [-1, 1]. */
function loggedRows(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const model = doubleIntegrator(1);
  const rows = new Float32Array(n * 5);
  for (let i = 0; i < n; i++) {
    const s = Float32Array.from([4 * rng.uniform() - 2, 2 * rng.uniform() - 1]);
    const a = Float32Array.from([2 * rng.uniform() - 1]);
    const next = new Float32Array(2);
    model.step(s, a, next, 1, DT);
    rows.set(s, 5 * i);
    rows.set(a, 5 * i + 2);
    rows.set(next, 5 * i + 3);
  }
  return rows;
}

const opts = (rounds: number): ImaginedValueOptions => ({
  starts: 128,
  sequences: 8,
  steps: 5,
  rounds,
  refinements: 2,
  imaginedStarts: 0.5,
  discount: 0.95,
  noiseStd: Float32Array.from([1]),
  smoothing: 0.5,
  low: Float32Array.from([-1]),
  high: Float32Array.from([1]),
  fit: { hidden: [16], members: 1, maxEpochs: 40, batchSize: 32, learningRate: 1e-2, patience: 10, validationFraction: 0.15, seed: 0 },
});

test('fitted value iteration on a double integrator: V grows with the distance from the goal, and later rounds look further', () => {
  const rows = loggedRows(600, 1);
  const { snapshot, rounds } = fitImaginedValue(doubleIntegrator(256), cost, rows, 600, DT, opts(3), 42);
  assert.deepEqual(rounds.map((r) => r.round), [1, 2, 3]);
  assert.ok(rounds.every((r) => Number.isFinite(r.mean_target) && r.mean_target > 0 && Number.isFinite(r.validation_mse)));
  // Each round adds discount^5 * V_prev of where 5 steps lead: x^2 does not vanish in 5 steps at |u| <= 1.
  assert.ok(rounds[1]!.mean_target > 1.3 * rounds[0]!.mean_target, `round 2 mean target ${rounds[1]!.mean_target} vs round 1 ${rounds[0]!.mean_target}`);
  assert.ok(rounds[2]!.mean_target > 1.1 * rounds[1]!.mean_target, `round 3 mean target ${rounds[2]!.mean_target} vs round 2 ${rounds[1]!.mean_target}`);
  assert.deepEqual(snapshot.stateNames, ['x', 'v']);
  assert.equal(snapshot.discount, 0.95);
  assert.deepEqual(snapshot.hidden, [16]);

  const p = new ValuePredictor(snapshot, 8);
  try {
    const out = new Float32Array(5);
    p.predict(Float32Array.from([0, 0, 1, 0, -1, 0, 2, 0, -2, 0]), 5, out);
    const [atGoal, right1, left1, right2, left2] = Array.from(out) as [number, number, number, number, number];
    // At x = 0, v = 0 the cost-to-go is ~0 (up to the fit error of 16 units on 128 starts); at
    // |x| = 2 it is at least 5 steps of x^2 ~ 4 each.
    assert.ok(Math.abs(atGoal) < 0.1 * Math.min(right2, left2), `V(goal) = ${atGoal} vs V(+-2) = ${right2}, ${left2}`);
    assert.ok(right1 > atGoal + 2 && left1 > atGoal + 2, `V(+-1) = ${right1}, ${left1} vs V(0) = ${atGoal}`);
    assert.ok(right2 > right1 + 5 && left2 > left1 + 5, `V(+-2) = ${right2}, ${left2} vs V(+-1) = ${right1}, ${left1}`);
  } finally {
    p.dispose();
  }
});

test('one round is the best discounted 5-step cost: ~0 at the goal, and at x = 2 between full braking and standing still', () => {
  // Starts all at one state: the mean target is that state's best 5-step cost.
  const at = (x: number) => {
    const rows = new Float32Array(5 * 4);
    for (let i = 0; i < 4; i++) rows.set([x, 0, 0, x, 0], 5 * i);
    return fitImaginedValue(doubleIntegrator(256), cost, rows, 4, DT, { ...opts(1), starts: 16 }, 3).rounds[0]!.mean_target;
  };
  const goal = at(0);
  const far = at(2);
  // From x = 2 at rest every x_t is smallest under u = -1 throughout, so that is the optimum;
  // standing still costs more. Costs are of the states reached, s_1 .. s_5, discounted from t = 0.
  const discounted = (xs: (t: number) => number) => Array.from({ length: 5 }, (_, t) => 0.95 ** t * xs(t + 1) ** 2).reduce((a, b) => a + b);
  const braking = discounted((t) => 2 - 0.5 * (t * DT) ** 2);
  const still = discounted(() => 2);
  assert.ok(goal >= 0 && goal < 0.05, `goal target ${goal}`);
  assert.ok(far >= braking * (1 - 1e-5) && far < still, `x = 2 target ${far}: full braking costs ${braking}, standing still ${still}`);
});

test("round 1 backs up the task's terminal cost: from a state at rest, its target is the 5-step cost plus discount^5 times the terminal cost where the rollout ends", () => {
  // The same x^2 running cost, plus 10 x^2 at the end of the imagined rollout.
  const withTerminal = new TaskCost([new QuadraticTracking('x2', 2, [{ index: 0, target: 0, weight: 1, angular: false }], 1, 10)]);
  const rows = new Float32Array(5 * 4);
  for (let i = 0; i < 4; i++) rows.set([2, 0, 0, 2, 0], 5 * i);
  const target = (c: TaskCost) => fitImaginedValue(doubleIntegrator(256), c, rows, 4, DT, { ...opts(1), starts: 16 }, 3).rounds[0]!.mean_target;
  const plain = target(cost);
  const terminal = target(withTerminal);
  // Full braking from x = 2 (the optimum of both: every x_t is smallest under u = -1) ends at
  // x_5 = 2 - 0.5 (5 DT)^2 = 1.875, so the terminal adds 0.95^5 * 10 * 1.875^2 ~ 27.2.
  const added = 0.95 ** 5 * 10 * 1.875 ** 2;
  assert.ok(Math.abs(terminal - plain - added) < 0.05 * added, `with terminal ${terminal}, without ${plain}: added ${terminal - plain}, expected ~${added}`);
});
