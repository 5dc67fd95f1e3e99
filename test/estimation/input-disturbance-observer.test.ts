import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputDisturbanceObserver } from '../../src/estimation/input-disturbance-observer.js';
import type { DynamicsModel } from '../../src/models/dynamics.js';

/**
 * Two carts on springs, each pushed by its own action, semi-implicit Euler:
 * state [x1, x2, v1, v2], actions [f1, f2], v' = v + dt * (gain_i * f_i - k x - c v), x' = x + dt v'.
 */
function carts(gains: readonly number[], maxBatch = 8): DynamicsModel {
  return {
    stateNames: ['x1', 'x2', 'v1', 'v2'],
    actionNames: ['f1', 'f2'],
    angular: [false, false, false, false],
    maxBatch,
    step(states, actions, out, count, dt) {
      for (let k = 0; k < count; k++) {
        for (let i = 0; i < 2; i++) {
          const x = states[k * 4 + i]!;
          const v = states[k * 4 + 2 + i]!;
          const vn = v + dt * (gains[i]! * actions[k * 2 + i]! - 4 * x - 0.5 * v);
          out[k * 4 + 2 + i] = vn;
          out[k * 4 + i] = x + dt * vn;
        }
      }
    },
  };
}

/** Runs the plant (the model with actions + `truth`) for `steps` periods under a fixed model action. */
function run(observer: InputDisturbanceObserver, truth: readonly number[], steps: number): Float32Array {
  const plant = carts([2, 3]);
  const dt = 0.02;
  let s = new Float32Array([0.1, -0.2, 0, 0]);
  const next = new Float32Array(4);
  const sent = new Float32Array(2);
  const applied = new Float32Array(2);
  for (let t = 0; t < steps; t++) {
    observer.observe(s);
    // The planner would choose u; any u will do here, with some variety.
    const u = [0.3 * Math.sin(t / 7), -0.2 * Math.cos(t / 5)];
    observer.toPlant(u, sent);
    observer.remember(s, sent);
    for (let j = 0; j < 2; j++) applied[j] = sent[j]! + truth[j]!;
    plant.step(s, applied, next, 1, dt);
    s = Float32Array.from(next);
  }
  return s;
}

test('the observer finds a constant action offset the plant has and the model lacks', () => {
  const truth = [0.15, -0.08];
  const observer = new InputDisturbanceObserver(carts([2, 3]), 0.02, 0.2, new Float64Array([0.5, 0.5]));
  run(observer, truth, 200);
  assert.ok(Math.abs(observer.offset[0]! - truth[0]!) < 1e-3, `f1 offset ${observer.offset[0]}, truth ${truth[0]}`);
  assert.ok(Math.abs(observer.offset[1]! - truth[1]!) < 1e-3, `f2 offset ${observer.offset[1]}, truth ${truth[1]}`);
});

test('offsets stay inside their limits, and an action with limit 0 is never offset', () => {
  const observer = new InputDisturbanceObserver(carts([2, 3]), 0.02, 0.5, new Float64Array([0.05, 0]));
  run(observer, [0.4, 0.3], 200);
  assert.equal(observer.offset[0], 0.05);
  assert.equal(observer.offset[1], 0);
});

test('with no remembered step (a new episode, a gap in the ticks) nothing is learnt', () => {
  const observer = new InputDisturbanceObserver(carts([2, 3]), 0.02, 0.5, new Float64Array([1, 1]));
  observer.remember([0, 0, 0, 0], [0, 0]);
  observer.forgetStep();
  observer.observe([1, 1, 1, 1]);
  assert.deepEqual(Array.from(observer.offset), [0, 0]);
});

test('a model that steps too few rows for the finite differences is refused when built', () => {
  assert.throws(() => new InputDisturbanceObserver(carts([2, 3], 2), 0.02, 0.1, new Float64Array([1, 1])), /needs 3/);
});
