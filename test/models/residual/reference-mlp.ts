/**
 * A deliberately plain reference of the residual ensemble's arithmetic, in float64 JS, straight
 * from the snapshot's documented layouts (no folded normalizers, no tensors), so the predictor's
 * optimized path can be checked against it.
 */
import assert from 'node:assert/strict';
import type { EnsembleSnapshot } from '../../../src/models/residual/ensemble-snapshot.js';

/** Raw features of one sample: sin/cos of angular states, other states as they are, then the actions. */
export function referenceFeatures(s: EnsembleSnapshot, state: ArrayLike<number>, action: ArrayLike<number>): number[] {
  const f: number[] = [];
  s.spec.angular.forEach((ang, i) => {
    if (ang) f.push(Math.sin(state[i]!), Math.cos(state[i]!));
    else f.push(state[i]!);
  });
  for (let j = 0; j < action.length; j++) f.push(action[j]!);
  return f;
}

/** Member `member`'s mean head for one sample, normalized (before the target de-normalization). */
export function referenceNormalizedMean(s: EnsembleSnapshot, member: number, state: ArrayLike<number>, action: ArrayLike<number>): number[] {
  const nx = s.spec.stateNames.length;
  let h = referenceFeatures(s, state, action).map((v, i) => (v - s.input.mean[i]!) / s.input.std[i]!);
  s.layers.forEach((layer, l) => {
    const out = layer.bias.length / s.spec.members;
    const inn = layer.weights.length / s.spec.members / out;
    const next: number[] = [];
    for (let j = 0; j < out; j++) {
      let acc = layer.bias[member * out + j]!;
      for (let i = 0; i < inn; i++) acc += h[i]! * layer.weights[member * inn * out + i * out + j]!;
      next.push(l < s.layers.length - 1 ? Math.max(0, acc) : acc);
    }
    h = next;
  });
  return h.slice(0, nx); // the mean columns; the log-variance columns follow
}

/** Member `member`'s mean residual for one sample, in state units. */
export function referenceResidual(s: EnsembleSnapshot, member: number, state: ArrayLike<number>, action: ArrayLike<number>): number[] {
  return referenceNormalizedMean(s, member, state, action).map((z, i) => z * s.target.std[i]! + s.target.mean[i]!);
}

/** Members' (population) variance of the normalized mean, summed over state dimensions, over the elites. */
export function referenceDisagreement(s: EnsembleSnapshot, state: ArrayLike<number>, action: ArrayLike<number>): number {
  const means = s.elites.map((m) => referenceNormalizedMean(s, m, state, action));
  const nx = s.spec.stateNames.length;
  let total = 0;
  for (let i = 0; i < nx; i++) {
    const avg = means.reduce((a, m) => a + m[i]!, 0) / means.length;
    total += means.reduce((a, m) => a + (m[i]! - avg) ** 2, 0) / means.length;
  }
  return total;
}

/** Asserts |a - b| <= tol * (1 + |b|) elementwise, naming the first index that is off. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  if (actual.length !== expected.length) assert.fail(`${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (!(Math.abs(a - b) <= tol * (1 + Math.abs(b)))) assert.fail(`${what}: [${i}] is ${a}, expected ${b} (tolerance ${tol})`);
  }
}
