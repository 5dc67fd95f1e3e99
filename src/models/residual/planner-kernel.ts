import { loadMlpKernelSync, type MlpKernel } from './mlp-kernel.js';

let current: MlpKernel | undefined;

/** Sets the MLP kernel this thread's planner networks are built with (chosen once at start-up). */
export function usePlannerKernel(kernel: MlpKernel): void {
  current = kernel;
}

/** This thread's planner MLP kernel; without a choice made at start-up, the best that loads now. */
export function plannerKernel(): MlpKernel {
  current ??= loadMlpKernelSync('auto');
  return current;
}
