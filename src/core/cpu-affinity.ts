import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { loadNativeMlpAddon } from '../models/residual/native-mlp-kernel.js';

/** A config's CPU set for a group of threads: 'any' = wherever the OS puts them. */
export type CpuSet = 'any' | readonly number[];

/**
 * Lets the calling thread run only on `cpus` (Linux, through the native addon). Threads pinned
 * apart keep their own cores and caches: a refit trainer on a core of its own does not slow the
 * planner down, which no priority class manages on shared cores. Returns whether it took; where
 * it did not (no addon, another OS, a CPU outside the process's cpuset) it warns naming `field`,
 * and the thread runs unpinned.
 */
export function pinThisThread(cpus: CpuSet, field: string, log: Pick<Logger, 'warn'>): boolean {
  if (cpus === 'any') return false;
  let why: string;
  try {
    if (loadNativeMlpAddon().setThreadAffinity(Int32Array.from(cpus))) return true;
    why = `the OS refused CPUs [${cpus.join(', ')}] (this machine has ${availableParallelism()} CPUs, numbered from 0)`;
  } catch (err) {
    why = err instanceof Error ? err.message : String(err);
  }
  log.warn({ field, cpus, reason: why }, `${field} not applied; the thread runs on any CPU`);
  return false;
}
