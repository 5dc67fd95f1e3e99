import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { Logger } from 'pino';
import { MpcdError } from '../../core/errors.js';

export type TfBackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export type TfBackendName = 'tensorflow' | 'wasm' | 'cpu';

export { tf };

const require = createRequire(import.meta.url);

/** Native TensorFlow bindings, best first; both are optional dependencies that often cannot install. */
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

let chosen: Promise<TfBackendName> | undefined;

/**
 * Picks the tfjs backend once per thread: `tensorflow` where a native binding loads (GPU one
 * first), else `wasm` (XNNPACK SIMD kernels), else `cpu`; `choice` forces one. The native
 * packages register themselves with the same tfjs-core instance when required.
 */
export function selectTfBackend(choice: TfBackendChoice = 'auto', log?: Logger): Promise<TfBackendName> {
  chosen ??= pick(choice, log);
  return chosen;
}

async function pick(choice: TfBackendChoice, log?: Logger): Promise<TfBackendName> {
  // PROD skips per-op debug checks and the console banner suggesting the native backend.
  tf.env().set('PROD', true);
  const tried: string[] = [];
  const candidates: TfBackendName[] = choice === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [choice];
  for (const name of candidates) {
    const why = await tryBackend(name);
    if (why === undefined) {
      log?.info({ backend: name, tried }, 'tfjs backend selected');
      return name;
    }
    tried.push(`${name}: ${why}`);
  }
  throw new MpcdError('TF_BACKEND', `no usable tfjs backend for model.residual.backend=${choice}`, tried);
}

async function tryBackend(name: TfBackendName): Promise<string | undefined> {
  try {
    if (name === 'tensorflow') {
      const loaded = NATIVE_PACKAGES.find((pkg) => {
        try {
          require(pkg);
          return true;
        } catch {
          return false;
        }
      });
      if (loaded === undefined) return `neither ${NATIVE_PACKAGES.join(' nor ')} is installed or loads`;
    }
    if (!(await tf.setBackend(name))) return 'failed to initialize';
    await tf.ready();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
