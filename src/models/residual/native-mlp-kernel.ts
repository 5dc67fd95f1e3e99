import { MpcdError } from '../../core/errors.js';
import { loadNativeMlpAddon, type NativeMlpAddon } from '../../core/native-addon.js';
import type { MlpKernel, MlpLayer, MlpNetwork } from './mlp-kernel.js';
import { checkMaxRows, layerWidths, widestHidden } from './typescript-mlp-kernel.js';

// The loader lives in core (shared with the Rng and CPU pinning); re-exported for the model kernels.
export { loadNativeMlpAddon, nativeAddonPath, type NativeMlpAddon } from '../../core/native-addon.js';

/** The native kernel, e.g. named 'native-avx512'; throws as loadNativeMlpAddon does. */
export function nativeMlpKernel(): MlpKernel {
  const native = loadNativeMlpAddon();
  return { name: `native-${native.isa()}`, createNetwork: (layers, maxRows) => new NativeMlpNetwork(native, layers, maxRows) };
}

class NativeMlpNetwork implements MlpNetwork {
  readonly inputDim: number;
  readonly outputDim: number;
  private readonly params: Float32Array; // per layer W [in, out] then b [out]
  private readonly dims: Int32Array; // [in, hidden..., out]
  private readonly scratch: Float32Array; // [2, maxRows, widest hidden]

  constructor(
    private readonly native: NativeMlpAddon,
    layers: readonly MlpLayer[],
    private readonly maxRows: number,
  ) {
    const widths = layerWidths(layers);
    checkMaxRows(maxRows);
    this.inputDim = widths[0]!;
    this.outputDim = widths.at(-1)!;
    this.dims = Int32Array.from(widths);
    this.params = new Float32Array(layers.reduce((n, l) => n + l.weights.length + l.bias.length, 0));
    let at = 0;
    for (const l of layers) {
      this.params.set(l.weights, at);
      this.params.set(l.bias, at + l.weights.length);
      at += l.weights.length + l.bias.length;
    }
    this.scratch = new Float32Array(2 * maxRows * widestHidden(widths));
    // A pass over no rows: the addon's own shape checks (layer count, widths) at construction.
    native.forward(this.params, this.dims, new Float32Array(0), 0, 0, new Float32Array(0), 0, this.scratch, false);
  }

  forward(x: Float32Array, xOffset: number, rows: number, y: Float32Array, yOffset: number, accumulate: boolean): void {
    // The addon would reject it too, as a short scratch; this says what the caller did.
    if (rows > this.maxRows) throw new RangeError(`forward: rows ${rows} exceeds the network's maxRows ${this.maxRows}`);
    this.native.forward(this.params, this.dims, x, xOffset, rows, y, yOffset, this.scratch, accumulate);
  }

  dispose(): void {}
}
