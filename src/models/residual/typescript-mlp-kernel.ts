import type { MlpKernel, MlpLayer, MlpNetwork } from './mlp-kernel.js';

/**
 * The MLP forward pass as plain loops: the last-resort kernel and the readable statement of
 * what every kernel computes. Each output is one float64 dot product (bias first, then inputs
 * in order), rounded to float32 when stored. Also holds the argument checks the JS kernels
 * share, which the native addon repeats in C.
 */
export function typescriptMlpKernel(): MlpKernel {
  return { name: 'typescript', createNetwork: (layers, maxRows) => new TypescriptMlpNetwork(layers, maxRows) };
}

class TypescriptMlpNetwork implements MlpNetwork {
  readonly inputDim: number;
  readonly outputDim: number;
  private readonly widths: readonly number[]; // [in, hidden..., out]
  private readonly weights: readonly Float32Array[]; // per layer [in, out]
  private readonly bias: readonly Float32Array[]; // per layer [out]
  private readonly activations: readonly [Float32Array, Float32Array]; // two [maxRows, widest hidden]

  constructor(
    layers: readonly MlpLayer[],
    private readonly maxRows: number,
  ) {
    this.widths = layerWidths(layers);
    checkMaxRows(maxRows);
    this.inputDim = this.widths[0]!;
    this.outputDim = this.widths.at(-1)!;
    this.weights = layers.map((l) => l.weights.slice());
    this.bias = layers.map((l) => l.bias.slice());
    const hiddenSize = maxRows * widestHidden(this.widths);
    this.activations = [new Float32Array(hiddenSize), new Float32Array(hiddenSize)];
  }

  forward(x: Float32Array, xOffset: number, rows: number, y: Float32Array, yOffset: number, accumulate: boolean): void {
    checkForwardArgs(this.widths, this.maxRows, x, xOffset, rows, y, yOffset, accumulate);
    const last = this.weights.length - 1;
    let input = x; // [rows, K] from inputOffset
    let inputOffset = xOffset;
    for (let l = 0; l <= last; l++) {
      const K = this.widths[l]!;
      const N = this.widths[l + 1]!;
      const W = this.weights[l]!;
      const b = this.bias[l]!;
      const output = l === last ? y : this.activations[l % 2]!; // [rows, N] from outputOffset
      const outputOffset = l === last ? yOffset : 0;
      for (let r = 0; r < rows; r++) {
        const inRow = inputOffset + r * K;
        const outRow = outputOffset + r * N;
        for (let j = 0; j < N; j++) {
          let sum = b[j]!;
          for (let k = 0; k < K; k++) sum += input[inRow + k]! * W[k * N + j]!;
          if (l < last) output[outRow + j] = sum < 0 ? 0 : sum; // ReLU; NaN stays NaN
          else if (accumulate) output[outRow + j]! += sum;
          else output[outRow + j] = sum;
        }
      }
      input = output;
      inputOffset = 0;
    }
  }

  dispose(): void {}
}

/** Widths [in, hidden..., out] of a chain of layers, checking that each layer feeds the next. */
export function layerWidths(layers: readonly MlpLayer[]): number[] {
  if (layers.length === 0) throw new RangeError('an MLP needs at least one layer');
  const widths: number[] = [];
  layers.forEach((layer, l) => {
    if (!(layer.weights instanceof Float32Array) || !(layer.bias instanceof Float32Array)) throw new TypeError(`layer ${l}: weights and bias must be Float32Arrays`);
    const out = layer.bias.length;
    const inn = out === 0 ? 0 : layer.weights.length / out;
    if (out === 0 || inn === 0 || !Number.isInteger(inn)) throw new RangeError(`layer ${l}: weights.length ${layer.weights.length} is not [in, out] with out = bias.length ${out} and in >= 1`);
    if (l > 0 && inn !== widths[l]) throw new RangeError(`layer ${l}: takes ${inn} inputs but layer ${l - 1} gives ${widths[l]}`);
    if (l === 0) widths.push(inn);
    widths.push(out);
  });
  return widths;
}

/** The widest hidden layer (0 for a single layer): the activation buffers' row width. */
export function widestHidden(widths: readonly number[]): number {
  return Math.max(0, ...widths.slice(1, -1));
}

export function checkMaxRows(maxRows: number): void {
  if (!Number.isSafeInteger(maxRows) || maxRows < 0) throw new RangeError(`maxRows must be a non-negative integer, got ${maxRows}`);
}

/** The argument checks of MlpNetwork.forward, without allocating (the native addon repeats them in C). */
export function checkForwardArgs(
  widths: readonly number[],
  maxRows: number,
  x: Float32Array,
  xOffset: number,
  rows: number,
  y: Float32Array,
  yOffset: number,
  accumulate: boolean,
): void {
  if (!(x instanceof Float32Array)) throw new TypeError('forward: x must be a Float32Array');
  if (!(y instanceof Float32Array)) throw new TypeError('forward: y must be a Float32Array');
  if (typeof accumulate !== 'boolean') throw new TypeError('forward: accumulate must be a boolean');
  for (const [name, value] of [['xOffset', xOffset], ['rows', rows], ['yOffset', yOffset]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`forward: ${name} must be a non-negative integer, got ${value}`);
  }
  if (rows > maxRows) throw new RangeError(`forward: rows ${rows} exceeds the network's maxRows ${maxRows}`);
  const inputs = widths[0]!;
  const outputs = widths.at(-1)!;
  if (xOffset + rows * inputs > x.length) throw new RangeError(`forward: x too short: xOffset ${xOffset} + rows ${rows} * ${inputs} inputs > x.length ${x.length}`);
  if (yOffset + rows * outputs > y.length) throw new RangeError(`forward: y too short: yOffset ${yOffset} + rows ${rows} * ${outputs} outputs > y.length ${y.length}`);
  if (rows > 0 && x.buffer === y.buffer) {
    const x0 = x.byteOffset + xOffset * 4;
    const y0 = y.byteOffset + yOffset * 4;
    if (x0 < y0 + rows * outputs * 4 && y0 < x0 + rows * inputs * 4) throw new RangeError('forward: y must not share memory with x');
  }
}
