import type { Rng } from '../../core/rng.js';
import type { EnsembleSnapshot } from './ensemble-snapshot.js';
import { layerWidths, inputDim, type ResidualSpec } from './residual-spec.js';

/**
 * An untrained ensemble with seeded Glorot-normal weights, identity normalizers and every
 * member elite: the same arithmetic as a trained one, for benchmarks and tests of the plumbing.
 * `outputScale` shrinks the last layer so a rollout through it stays near the analytic one.
 */
export function randomSnapshot(spec: ResidualSpec, rng: Rng, outputScale = 0.01): EnsembleSnapshot {
  const widths = layerWidths(spec);
  const E = spec.members;
  const nx = spec.stateNames.length;
  const layers = widths.slice(1).map((out, l) => {
    const inn = widths[l]!;
    const weights = new Float32Array(E * inn * out);
    rng.fillNormal(weights);
    const scale = Math.sqrt(2 / (inn + out)) * (l === widths.length - 2 ? outputScale : 1);
    for (let i = 0; i < weights.length; i++) weights[i]! *= scale;
    return { weights, bias: new Float32Array(E * out) };
  });
  const d = inputDim(spec);
  return {
    spec,
    input: { mean: new Float32Array(d), std: new Float32Array(d).fill(1) },
    target: { mean: new Float32Array(nx), std: new Float32Array(nx).fill(1) },
    layers,
    maxLogVar: new Float32Array(nx).fill(0.5),
    minLogVar: new Float32Array(nx).fill(-10),
    elites: Array.from({ length: E }, (_, m) => m),
  };
}

/** Multiply-adds of one forward pass of one member's mean path, per sample. */
export function macsPerSample(spec: ResidualSpec): number {
  const w = layerWidths(spec);
  w[w.length - 1] = spec.stateNames.length; // the planner drops the log-variance columns
  let macs = 0;
  for (let l = 0; l + 1 < w.length; l++) macs += w[l]! * w[l + 1]!;
  return macs;
}
