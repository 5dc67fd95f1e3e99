import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import type { Logger } from 'pino';
import { loadNativeMlpAddon } from './native-addon.js';

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

/**
 * Where node's own helper threads belong when the planner is pinned: the refit's CPUs
 * (learning.cpus), else every CPU the planner leaves free; undefined where the planner is not
 * pinned or leaves none.
 */
export function helperCpus(planner: CpuSet, learning: CpuSet, cpuCount = availableParallelism()): readonly number[] | undefined {
  if (planner === 'any') return undefined;
  if (learning !== 'any') return learning;
  const free = Array.from({ length: cpuCount }, (_, i) => i).filter((c) => !planner.includes(c));
  return free.length > 0 ? free : undefined;
}

/**
 * Moves every other thread the process has now (V8's garbage-collection helper, its delayed-task
 * thread, the refit worker if it runs) onto `cpus`. Called on the main thread before the planner's
 * rollout workers start: the GC helper also collects the refit worker's heap, which tfjs churns,
 * and on the planner's core it preempts a tick. Linux only; returns how many threads moved.
 */
export function pinHelperThreads(cpus: readonly number[], field: string, log: Pick<Logger, 'warn'>): number {
  if (!isMainThread) return 0;
  let tids: number[];
  try {
    tids = readdirSync('/proc/self/task').map(Number).filter((tid) => tid !== process.pid);
  } catch {
    return 0; // no procfs: not Linux
  }
  let moved = 0;
  try {
    const addon = loadNativeMlpAddon();
    const set = Int32Array.from(cpus);
    for (const tid of tids) if (addon.setThreadAffinity(set, tid)) moved++;
  } catch (err) {
    log.warn({ field, cpus, reason: err instanceof Error ? err.message : String(err) }, `node's helper threads not moved to ${field}`);
  }
  return moved;
}
