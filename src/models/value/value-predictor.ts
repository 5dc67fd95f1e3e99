import { foldInputNormalizer } from '../residual/ensemble-snapshot.js';
import type { MlpKernel, MlpNetwork } from '../residual/mlp-kernel.js';
import { plannerKernel } from '../residual/planner-kernel.js';
import { stateFeatureDim, writeStateFeatures } from '../state-features.js';
import type { ValueSnapshot } from './value-snapshot.js';

/**
 * V(s) for a batch of states, in cost units: one network of the planner's MLP kernel over all
 * rows at once, with the input normalizer folded into the first layer and the target's into the
 * last. Nothing allocates per call.
 */
export class ValuePredictor {
  private readonly net: MlpNetwork;
  private readonly features: Float32Array; // [maxBatch, featureDim]
  private disposed = false;

  constructor(
    readonly snapshot: ValueSnapshot,
    readonly maxBatch: number,
    kernel: MlpKernel = plannerKernel(),
  ) {
    this.features = new Float32Array(maxBatch * stateFeatureDim(snapshot.angular));
    const last = snapshot.layers.length - 1;
    const layers = snapshot.layers.map((layer, l) => {
      let W: Float32Array = Float32Array.from(layer.weights); // [in, out]
      let b: Float32Array = Float32Array.from(layer.bias);
      if (l === 0) ({ W, b } = foldInputNormalizer(snapshot.input, W, b));
      if (l === last) {
        const sc = snapshot.target.std[0]!;
        for (let i = 0; i < W.length; i++) W[i]! *= sc;
        b[0] = b[0]! * sc + snapshot.target.mean[0]!;
      }
      return { weights: W, bias: b };
    });
    this.net = kernel.createNetwork(layers, maxBatch);
  }

  /** out[k] = V(states[k]) for k < count; states [count, nx]. */
  predict(states: Float32Array, count: number, out: Float32Array): void {
    writeStateFeatures(this.snapshot.angular, states, count, this.features);
    this.net.forward(this.features, 0, count, out, 0, false);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.net.dispose();
  }
}
