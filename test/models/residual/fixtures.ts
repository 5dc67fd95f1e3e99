import { Rng } from '../../../src/core/rng.js';
import type { EnsembleSnapshot } from '../../../src/models/residual/ensemble-snapshot.js';
import { randomSnapshot } from '../../../src/models/residual/random-snapshot.js';
import { inputDim, type ResidualSpec } from '../../../src/models/residual/residual-spec.js';

/** The cart-pole's residual: [x, theta, x_dot, theta_dot] with theta angular, action [u]. */
export const cartpoleSpec: ResidualSpec = { stateNames: ['x', 'theta', 'x_dot', 'theta_dot'], actionNames: ['u'], angular: [false, true, false, false], hidden: [16, 12], members: 5 };

/**
 * A random ensemble made less trivial than `randomSnapshot`'s: non-identity input and target
 * normalizers, non-zero biases, and elites [3, 0, 4]: neither all members nor in index order.
 */
export function testSnapshot(seed: number, outputScale = 1, spec: ResidualSpec = cartpoleSpec): EnsembleSnapshot {
  const rng = new Rng(seed);
  const base = randomSnapshot(spec, rng, outputScale);
  for (const l of base.layers) for (let i = 0; i < l.bias.length; i++) l.bias[i] = 0.3 * rng.normal();
  const d = inputDim(spec);
  return {
    ...base,
    input: { mean: Float32Array.from({ length: d }, (_, i) => 0.2 * (i + 1) - 0.5), std: Float32Array.from({ length: d }, (_, i) => 0.5 + 0.4 * i) },
    target: { mean: Float32Array.from([0.01, -0.02, 0.3, -0.5]), std: Float32Array.from([0.05, 0.002, 0.7, 2.5]) },
    elites: [3, 0, 4],
  };
}
