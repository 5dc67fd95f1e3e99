/**
 * "The robot" of the learning tests: a cart-pole whose parameters differ from the nominal model
 * the planner uses (heavier, longer pole, cart friction, weaker motor), so the analytic model is
 * wrong in a way a residual can learn; plus transitions of either model as rows or as the
 * Transition records the transition log and the refit scheduler take.
 */
import { Rng } from '../../src/core/rng.js';
import type { Transition } from '../../src/log/transition-schema.js';
import { cartpole, cartpoleParams } from '../../src/models/analytic/cartpole.js';
import type { DynamicsModel } from '../../src/models/dynamics.js';
import { discretize } from '../../src/models/integrators.js';

export const DT = 0.02;
export const NX = 4;
export const NU = 1;
export const ROW = 2 * NX + NU;

/** The nominal model of config/cartpole-mismatch.yaml (the planner's analytic model). */
export const nominalModel = (maxBatch = 1024): DynamicsModel => discretize(cartpole(cartpoleParams.parse({ cart_mass: 1, pole_mass: 0.1, pole_length: 1, gear: 10 })), 'rk4', 1, maxBatch);

/** The mismatched plant. */
export const robotModel = (maxBatch = 1): DynamicsModel =>
  discretize(cartpole(cartpoleParams.parse({ cart_mass: 1, pole_mass: 0.25, pole_length: 1.2, cart_damping: 3, gear: 7.5 })), 'rk4', 1, maxBatch);

/**
 * Transitions of `plant` under uniform random actions, in short episodes from random states:
 * rows (s, a, s') [n, 9] and the same as Transition records (t, episode, step; flags 0).
 */
export function plantTransitions(plant: DynamicsModel, n: number, seed: number, stepsPerEpisode = 50): { rows: Float32Array; transitions: Transition[] } {
  const rng = new Rng(seed);
  const rows = new Float32Array(n * ROW);
  const transitions: Transition[] = [];
  const s = new Float32Array(NX);
  const a = new Float32Array(NU);
  const next = new Float32Array(NX);
  for (let i = 0; i < n; i++) {
    const step = i % stepsPerEpisode;
    if (step === 0) s.set([rng.uniform() - 0.5, (2 * rng.uniform() - 1) * Math.PI, 2 * rng.uniform() - 1, 4 * rng.uniform() - 2]);
    a[0] = 2 * rng.uniform() - 1;
    plant.step(s, a, next, 1, DT);
    rows.set(s, i * ROW);
    rows[i * ROW + NX] = a[0];
    rows.set(next, i * ROW + NX + NU);
    transitions.push({
      t: i * DT,
      episode: Math.floor(i / stepsPerEpisode),
      step,
      state: Array.from(s),
      action: Array.from(a),
      next_state: Array.from(next),
      cost: 0,
      flags: 0,
      model_version: 0,
    });
    s.set(next);
  }
  return { rows, transitions };
}
