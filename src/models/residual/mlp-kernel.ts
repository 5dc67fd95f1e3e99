import { MpcdError } from '../../core/errors.js';
import { nativeMlpKernel } from './native-mlp-kernel.js';
import { typescriptMlpKernel } from './typescript-mlp-kernel.js';

/** One dense layer. */
export interface MlpLayer {
  readonly weights: Float32Array; // [in, out] row-major
  readonly bias: Float32Array; // [out]
}

/** A dense network, ReLU after every layer but the last, ready to run batches of rows. */
export interface MlpNetwork {
  readonly inputDim: number;
  readonly outputDim: number;
  /**
   * y[yOffset + r*out + j] (+)= net(x row r)[j] for r < rows, j < out, with x row r at
   * x[xOffset + r*in ..]: x [rows, in], y [rows, out], both row-major from their offsets.
   * `accumulate` adds into y instead of overwriting it. rows <= the network's maxRows; y must
   * not share memory with x. Throws TypeError/RangeError on bad arguments. No allocation
   * (except in the tfjs kernel, whose tensors are created and freed per call).
   */
  forward(x: Float32Array, xOffset: number, rows: number, y: Float32Array, yOffset: number, accumulate: boolean): void;
  /** Frees what the network holds outside the JS heap; it must not be used afterwards. */
  dispose(): void;
}

/** A way to run MLP forward passes: makes networks from layers. */
export interface MlpKernel {
  /** 'native-avx512', 'native-avx2', 'native-generic', 'tfjs-wasm', 'tfjs-cpu', 'typescript', ... */
  readonly name: string;
  /** A network that copies `layers` (later changes to them are not seen) and runs up to maxRows rows per call. */
  createNetwork(layers: readonly MlpLayer[], maxRows: number): MlpNetwork;
}

/**
 * 'native': the SIMD addon built at install (native/kernels), fastest by far.
 * 'tfjs': fused matmuls on the tfjs backend that tf-backend.ts selected (portable).
 * 'typescript': plain loops, slow but always there.
 * 'auto': the first of those that loads.
 */
export type MlpKernelChoice = 'auto' | 'native' | 'tfjs' | 'typescript';

let loadedName: string | undefined;
let fallbacks: readonly string[] = [];

/**
 * The kernel for `choice`. 'auto' tries native, then tfjs (on whatever backend is current:
 * call selectTfBackend first), then typescript. An explicit choice that cannot load throws an
 * MpcdError saying why and how to fix it.
 */
export async function loadMlpKernel(choice: MlpKernelChoice): Promise<MlpKernel> {
  if (choice !== 'auto') return remember(choice === 'tfjs' ? await loadTfjs() : loadExplicitSync(choice), []);
  const passedOver: string[] = [];
  for (const load of [nativeMlpKernel, loadTfjs]) {
    try {
      return remember(await load(), passedOver);
    } catch (err) {
      passedOver.push(errorText(err));
    }
  }
  return remember(typescriptMlpKernel(), passedOver);
}

/**
 * The same as loadMlpKernel for 'native' and 'typescript', synchronously (worker threads build
 * their networks while starting). 'auto' is native, else typescript: tfjs loads asynchronously
 * only, so 'tfjs' throws here.
 */
export function loadMlpKernelSync(choice: MlpKernelChoice): MlpKernel {
  if (choice !== 'auto') return remember(loadExplicitSync(choice), []);
  try {
    return remember(nativeMlpKernel(), []);
  } catch (err) {
    return remember(typescriptMlpKernel(), [errorText(err)]);
  }
}

/** The name of the kernel this thread loaded last, if any (for logs and telemetry). */
export function loadedKernelName(): string | undefined {
  return loadedName;
}

/** Why the last 'auto' load in this thread passed over faster kernels (empty when it did not). */
export function mlpKernelFallbacks(): readonly string[] {
  return fallbacks;
}

function loadExplicitSync(choice: 'native' | 'tfjs' | 'typescript'): MlpKernel {
  switch (choice) {
    case 'native':
      return nativeMlpKernel();
    case 'typescript':
      return typescriptMlpKernel();
    case 'tfjs':
      throw new MpcdError('MLP_KERNEL', "the 'tfjs' MLP kernel loads asynchronously only: use loadMlpKernel, or the 'native' or 'typescript' kernel");
  }
}

/** Imported on demand: a thread running the native kernel need not load tfjs at all. */
async function loadTfjs(): Promise<MlpKernel> {
  const { tfjsMlpKernel } = await import('./tfjs-mlp-kernel.js');
  return tfjsMlpKernel();
}

function remember(kernel: MlpKernel, passedOver: readonly string[]): MlpKernel {
  loadedName = kernel.name;
  fallbacks = passedOver;
  return kernel;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
