import type { MlpKernel, MlpLayer, MlpNetwork } from './mlp-kernel.js';
import { tf } from './tf-backend.js';
import { checkForwardArgs, checkMaxRows, layerWidths } from './typescript-mlp-kernel.js';

/**
 * The MLP forward pass as one fused matmul per layer (bias and ReLU fused) on the current tfjs
 * backend: the portable kernel where the native addon is not built. It runs on whatever backend
 * is set when called; selectTfBackend picks that one.
 */
export async function tfjsMlpKernel(): Promise<MlpKernel> {
  await tf.ready();
  return { name: `tfjs-${tf.getBackend()}`, createNetwork: (layers, maxRows) => new TfjsMlpNetwork(layers, maxRows) };
}

class TfjsMlpNetwork implements MlpNetwork {
  readonly inputDim: number;
  readonly outputDim: number;
  private readonly widths: readonly number[]; // [in, hidden..., out]
  private readonly weights: tf.Tensor2D[]; // per layer [in, out]
  private readonly bias: tf.Tensor1D[]; // per layer [out]
  private disposed = false;

  constructor(
    layers: readonly MlpLayer[],
    private readonly maxRows: number,
  ) {
    this.widths = layerWidths(layers);
    checkMaxRows(maxRows);
    this.inputDim = this.widths[0]!;
    this.outputDim = this.widths.at(-1)!;
    this.weights = layers.map((l, i) => tf.tensor2d(l.weights.slice(), [this.widths[i]!, this.widths[i + 1]!]));
    this.bias = layers.map((l) => tf.tensor1d(l.bias.slice()));
  }

  forward(x: Float32Array, xOffset: number, rows: number, y: Float32Array, yOffset: number, accumulate: boolean): void {
    checkForwardArgs(this.widths, this.maxRows, x, xOffset, rows, y, yOffset, accumulate);
    if (this.disposed) throw new Error('forward on a disposed tfjs MLP network');
    if (rows === 0) return;
    const last = this.weights.length - 1;
    const result = tf.tidy(() => {
      let h: tf.Tensor = tf.tensor2d(x.subarray(xOffset, xOffset + rows * this.inputDim), [rows, this.inputDim]);
      for (let l = 0; l <= last; l++) h = tf.fused.matMul({ a: h as tf.Tensor2D, b: this.weights[l]!, bias: this.bias[l]!, activation: l < last ? 'relu' : 'linear' });
      return h.dataSync() as Float32Array; // [rows, out]
    });
    if (!accumulate) {
      y.set(result, yOffset);
      return;
    }
    for (let i = 0; i < result.length; i++) y[yOffset + i]! += result[i]!;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [...this.weights, ...this.bias]) t.dispose();
  }
}
