import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpcdError } from '../../core/errors.js';
import type { MlpKernel, MlpLayer, MlpNetwork } from './mlp-kernel.js';
import { checkMaxRows, layerWidths, widestHidden } from './typescript-mlp-kernel.js';

/** The addon's exports (native/kernels/mlp_kernel.c); it checks every argument itself. */
export interface NativeMlpAddon {
  /** Puts the calling thread under SCHED_IDLE (Linux); false where refused or unsupported. */
  setThreadIdle(): boolean;
  /** Lets the calling thread, or thread `tid` of this process, run only on these CPUs (Linux); false where refused or unsupported. */
  setThreadAffinity(cpus: Int32Array, tid?: number): boolean;
  /** Standard normals into out[offset ..], Rng's stream (src/core/rng.ts); advances state [4] in place. */
  normalFill(state: Int32Array, tables: Float64Array, out: Float32Array, offset: number, count: number): void;
  /**
   * params: per layer W [dims[l], dims[l+1]] row-major then b [dims[l+1]]; x [rows, dims[0]]
   * from xOffset; y [rows, dims[L]] from yOffset; scratch >= 2 * rows * widest hidden floats.
   */
  forward(
    params: Float32Array,
    dims: Int32Array,
    x: Float32Array,
    xOffset: number,
    rows: number,
    y: Float32Array,
    yOffset: number,
    scratch: Float32Array,
    accumulate: boolean,
  ): void;
  /** The SIMD path it was compiled with: 'avx512', 'avx2' or 'generic'. */
  isa(): string;
}

let addon: NativeMlpAddon | undefined;

/**
 * Where the built addon lives: native/kernels/build/Release under the package root, found by
 * walking up to package.json (this file runs from dist/src/models/residual when compiled, from
 * src/models/residual under a TypeScript loader).
 */
export function nativeAddonPath(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new MpcdError('MLP_KERNEL', `no package.json above ${start}, so the native MLP kernel cannot be located`);
    dir = parent;
  }
  return join(dir, 'native', 'kernels', 'build', 'Release', 'mpcd_kernels.node');
}

/** The addon, loaded once per thread; throws an MpcdError naming the file, the reason and the fix. */
export function loadNativeMlpAddon(): NativeMlpAddon {
  if (addon !== undefined) return addon;
  const path = nativeAddonPath();
  let reason: string;
  if (!existsSync(path)) {
    reason = 'the file does not exist (install skips the build with MPCD_NO_NATIVE=1 or without Python 3, make and a C compiler)';
  } else {
    try {
      const loaded = createRequire(import.meta.url)(path) as Partial<NativeMlpAddon>;
      if (typeof loaded.forward === 'function' && typeof loaded.isa === 'function') {
        addon = loaded as NativeMlpAddon;
        return addon;
      }
      reason = 'it does not export forward() and isa(); it is stale';
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
  }
  throw new MpcdError('MLP_KERNEL', `the native MLP kernel ${path} cannot be loaded: ${reason}`, [
    'build it with `npm run build:native` (needs Python 3, make and a C compiler)',
    "or choose the 'auto', 'tfjs' or 'typescript' MLP kernel",
  ]);
}

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
