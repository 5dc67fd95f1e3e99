/**
 * Hand-made terminal values and a deliberately plain float64 reference of V(s), straight from
 * ValueSnapshot's documented layout (features, input normalizer, ReLU MLP, target
 * de-normalization; nothing folded), so the predictor's optimized path can be checked against it.
 */
import { Rng } from '../../../src/core/rng.js';
import type { DynamicsModel } from '../../../src/models/dynamics.js';
import { stateFeatureDim } from '../../../src/models/state-features.js';
import { valueLayerWidths, type ValueSnapshot } from '../../../src/models/value/value-snapshot.js';

export const cartpoleStates = ['x', 'theta', 'x_dot', 'theta_dot'] as const;
export const cartpoleAngular = [false, true, false, false] as const;

/**
 * Random weights and biases with non-identity input and target normalizers, so that a predictor
 * that skipped either normalizer (or applied one twice) is far off.
 */
export function testValueSnapshot(
  seed: number,
  hidden: readonly number[] = [8, 6],
  stateNames: readonly string[] = cartpoleStates,
  angular: readonly boolean[] = cartpoleAngular,
  members = 1,
): ValueSnapshot {
  const rng = new Rng(seed);
  const d = stateFeatureDim(angular);
  const widths = valueLayerWidths({ angular, hidden });
  const normals = (n: number, scale: number) => {
    const a = new Float32Array(n);
    rng.fillNormal(a);
    return a.map((v) => scale * v);
  };
  return {
    stateNames,
    angular,
    hidden: [...hidden],
    discount: 0.97,
    members,
    input: { mean: Float32Array.from({ length: d }, (_, i) => 0.3 * i - 0.4), std: Float32Array.from({ length: d }, (_, i) => 0.4 + 0.35 * i) },
    target: { mean: Float32Array.from([4.25]), std: Float32Array.from([7.5]) },
    layers: widths.slice(1).map((out, l) => ({ weights: normals(members * widths[l]! * out, Math.sqrt(2 / widths[l]!)), bias: normals(members * out, 0.3) })),
  };
}

/** V(state) in float64, the slow obvious way: each member's network on its own, then their mean. */
export function referenceValue(v: ValueSnapshot, state: ArrayLike<number>): number {
  let sum = 0;
  for (let m = 0; m < v.members; m++) sum += referenceMember(v, m, state);
  return sum / v.members;
}

function referenceMember(v: ValueSnapshot, m: number, state: ArrayLike<number>): number {
  const f: number[] = [];
  v.angular.forEach((ang, i) => {
    if (ang) f.push(Math.sin(state[i]!), Math.cos(state[i]!));
    else f.push(state[i]!);
  });
  let h = f.map((x, i) => (x - v.input.mean[i]!) / v.input.std[i]!);
  v.layers.forEach((layer, l) => {
    // Stacked: weights [members, in, out], bias [members, out].
    const out = layer.bias.length / v.members;
    const inn = layer.weights.length / v.members / out;
    const next: number[] = [];
    for (let j = 0; j < out; j++) {
      let acc = layer.bias[m * out + j]!;
      for (let i = 0; i < inn; i++) acc += h[i]! * layer.weights[m * inn * out + i * out + j]!;
      next.push(l < v.layers.length - 1 ? Math.max(0, acc) : acc);
    }
    h = next;
  });
  return h[0]! * v.target.std[0]! + v.target.mean[0]!;
}

/**
 * A 1-D double integrator [x, v] under force u (exact zero-order-hold discretization), the
 * simplest system whose cost-to-go grows with the distance from the goal.
 */
export function doubleIntegrator(maxBatch: number): DynamicsModel {
  return {
    stateNames: ['x', 'v'],
    actionNames: ['u'],
    angular: [false, false],
    maxBatch,
    step(states, actions, out, count, dt) {
      for (let k = 0; k < count; k++) {
        const x = states[2 * k]!;
        const v = states[2 * k + 1]!;
        const u = actions[k]!;
        out[2 * k] = x + v * dt + 0.5 * u * dt * dt;
        out[2 * k + 1] = v + u * dt;
      }
    },
  };
}
