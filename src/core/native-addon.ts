import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpcdError } from './errors.js';

/**
 * The loader of the native kernels addon (native/kernels, built at install): shared vocabulary,
 * so that core (the seeded Rng's normals, CPU pinning) and the models (the MLP, dynamics and
 * cost kernels) use one loaded copy without core importing the models.
 */

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
 * walking up to package.json (this file runs from dist/src/core when compiled, from src/core
 * under a TypeScript loader).
 */
export function nativeAddonPath(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new MpcdError('NATIVE_KERNELS', `no package.json above ${start}, so the native MLP kernel cannot be located`);
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
  throw new MpcdError('NATIVE_KERNELS', `the native MLP kernel ${path} cannot be loaded: ${reason}`, [
    'build it with `npm run build:native` (needs Python 3, make and a C compiler)',
    "or choose the 'auto', 'tfjs' or 'typescript' MLP kernel",
  ]);
}

/**
 * A part of the addon (a named group of its functions), loaded once per thread and typed as T:
 * `load()` throws an MpcdError NATIVE_KERNELS naming why it cannot (the addon does not load, or
 * a stale build lacks some of `functions`, with `hint` saying what to do); `get()` is the part or
 * undefined, and undefined always under MPCD_NO_NATIVE=1.
 */
export function addonPart<T>(what: string, functions: readonly string[], hint: string): { load(): T; get(): T | undefined } {
  let loaded: T | undefined;
  let failure: MpcdError | undefined;
  const load = (): T => {
    if (loaded !== undefined) return loaded;
    if (failure !== undefined) throw failure;
    let reason: string;
    try {
      const addon = loadNativeMlpAddon() as unknown as Record<string, unknown>;
      const missing = functions.filter((name) => typeof addon[name] !== 'function');
      if (missing.length === 0) {
        loaded = addon as T;
        return loaded;
      }
      reason = `it does not export ${missing.join(', ')}; it is stale`;
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
    failure = new MpcdError('NATIVE_KERNELS', `${what} cannot be loaded: ${reason}`, [hint]);
    throw failure;
  };
  const get = (): T | undefined => {
    if (process.env['MPCD_NO_NATIVE'] === '1') return undefined;
    try {
      return load();
    } catch {
      return undefined;
    }
  };
  return { load, get };
}
