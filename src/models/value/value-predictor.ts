import { foldInputNormalizer } from '../residual/ensemble-snapshot.js';
import type { MlpKernel, MlpNetwork } from '../residual/mlp-kernel.js';
import { plannerKernel } from '../residual/planner-kernel.js';
import { stateFeatureDim, writeStateFeatures } from '../state-features.js';
import { valueMemberLayer, type ValueSnapshot } from './value-snapshot.js';

/**
 * V(s) for a batch of states, in cost units: the mean of the members' networks (the planner's
 * MLP kernel) over all rows at once, with the input normalizer folded into the first layer and
 * the target's into the last. Nothing allocates per call.
 */
export class ValuePredictor {
  private readonly nets: MlpNetwork[];
  private readonly features: Float32Array; // [maxBatch, featureDim]
  private disposed = false;

  constructor(
    readonly snapshot: ValueSnapshot,
    readonly maxBatch: number,
    kernel: MlpKernel = plannerKernel(),
  ) {
    this.features = new Float32Array(maxBatch * stateFeatureDim(snapshot.angular));
    const M = snapshot.members;
    const last = snapshot.layers.length - 1;
    // Member m's layers, with the input normalizer folded into the first and the target's, over
    // M, into the last: the members' outputs then sum to their mean.
    this.nets = Array.from({ length: M }, (_, m) => {
      const layers = snapshot.layers.map((_, l) => {
        let { weights: W, bias: b } = valueMemberLayer(snapshot, l, m); // W [in, out], b [out]
        if (l === 0) ({ W, b } = foldInputNormalizer(snapshot.input, W, b));
        if (l === last) {
          const sc = snapshot.target.std[0]! / M;
          for (let i = 0; i < W.length; i++) W[i]! *= sc;
          b[0] = b[0]! * sc + snapshot.target.mean[0]! / M;
        }
        return { weights: W, bias: b };
      });
      return kernel.createNetwork(layers, maxBatch);
    });
  }

  /** out[k] = V(states[k]) for k < count; states [count, nx]. */
  predict(states: Float32Array, count: number, out: Float32Array): void {
    writeStateFeatures(this.snapshot.angular, states, count, this.features);
    this.nets.forEach((net, m) => net.forward(this.features, 0, count, out, 0, m > 0));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const net of this.nets) net.dispose();
  }
}
