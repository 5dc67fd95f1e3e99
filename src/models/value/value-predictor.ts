import { foldInputNormalizer } from '../residual/ensemble-snapshot.js';
import { tf } from '../residual/tf-backend.js';
import { stateFeatureDim, writeStateFeatures } from '../state-features.js';
import type { ValueSnapshot } from './value-snapshot.js';

/**
 * V(s) for a batch of states, in cost units: a few fused matmuls over all rows at once, with
 * the input normalizer folded into the first layer and the target's into the last.
 */
export class ValuePredictor {
  private readonly weights: tf.Tensor2D[] = [];
  private readonly bias: tf.Tensor1D[] = [];
  private readonly features: Float32Array; // [maxBatch, featureDim]
  private disposed = false;

  constructor(
    readonly snapshot: ValueSnapshot,
    readonly maxBatch: number,
  ) {
    const d = stateFeatureDim(snapshot.angular);
    this.features = new Float32Array(maxBatch * d);
    const last = snapshot.layers.length - 1;
    snapshot.layers.forEach((layer, l) => {
      const out = layer.bias.length;
      const inn = layer.weights.length / out;
      let W: Float32Array = Float32Array.from(layer.weights);
      let b: Float32Array = Float32Array.from(layer.bias);
      if (l === 0) ({ W, b } = foldInputNormalizer(snapshot.input, W, b));
      if (l === last) {
        const sc = snapshot.target.std[0]!;
        for (let i = 0; i < W.length; i++) W[i]! *= sc;
        b[0] = b[0]! * sc + snapshot.target.mean[0]!;
      }
      this.weights.push(tf.tensor2d(W, [inn, out]));
      this.bias.push(tf.tensor1d(b));
    });
  }

  /** out[k] = V(states[k]) for k < count; states [count, nx]. */
  predict(states: Float32Array, count: number, out: Float32Array): void {
    const d = stateFeatureDim(this.snapshot.angular);
    writeStateFeatures(this.snapshot.angular, states, count, this.features);
    const v = tf.tidy(() => {
      let h: tf.Tensor = tf.tensor2d(this.features.subarray(0, count * d), [count, d]);
      const last = this.weights.length - 1;
      for (let l = 0; l <= last; l++) h = tf.fused.matMul({ a: h as tf.Tensor2D, b: this.weights[l]!, bias: this.bias[l]!, activation: l < last ? 'relu' : 'linear' });
      return h.dataSync() as Float32Array;
    });
    out.set(v.subarray(0, count));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [...this.weights, ...this.bias]) t.dispose();
  }
}
