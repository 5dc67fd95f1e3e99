import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import { loadMlpKernel, mlpKernelFallbacks, type MlpKernel } from './mlp-kernel.js';
import { nativeMlpKernel } from './native-mlp-kernel.js';
import { usePlannerKernel } from './planner-kernel.js';
import { selectTfBackend } from './tf-backend.js';

/**
 * Chooses this thread's planner MLP kernel from `model.residual.kernel` (the planner's thread
 * and every rollout worker call it once at start). tfjs is initialized only when the kernel
 * needs it, so workers with the native kernel never load a tfjs backend.
 */
export async function prepareResidualKernel(config: Config, log?: Logger): Promise<MlpKernel | undefined> {
  const r = config.model.residual;
  if (r === undefined) return undefined;
  let kernel: MlpKernel | undefined;
  if (r.kernel === 'auto') {
    try {
      kernel = nativeMlpKernel();
    } catch {
      // Falls through to loadMlpKernel, which records why.
    }
  }
  if (kernel === undefined) {
    if (r.kernel !== 'native' && r.kernel !== 'typescript') await selectTfBackend(r.backend, log);
    kernel = await loadMlpKernel(r.kernel);
  }
  usePlannerKernel(kernel);
  log?.info({ kernel: kernel.name, passed_over: mlpKernelFallbacks() }, 'planner MLP kernel selected');
  return kernel;
}
