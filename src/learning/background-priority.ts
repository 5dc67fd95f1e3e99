import { setPriority } from 'node:os';
import type { Logger } from 'pino';
import { loadNativeMlpAddon } from '../core/native-addon.js';

/**
 * How far the refit thread steps back: 'idle' when the control loop runs on a real clock
 * (SCHED_IDLE: the thread runs only on CPU time nobody else wants, so the planner's threads never
 * wait for it at a tick; the loop leaves most of each period idle), 'nice' in lock-step
 * simulation, where the planner keeps every core busy and an idle-class thread would never train.
 */
export type BackgroundPriority = 'idle' | 'nice';

/**
 * Lowers the calling thread (the refit worker) below the control path: SCHED_IDLE through the
 * native addon where asked and where it loads, else nice 19 (still a small share of a busy
 * core). On Linux both are per thread. Where both are refused, training still runs.
 */
export function lowerThreadPriority(log: Pick<Logger, 'warn'>, wanted: BackgroundPriority = 'idle'): 'idle' | 'nice' | 'unchanged' {
  try {
    if (wanted === 'idle' && loadNativeMlpAddon().setThreadIdle()) return 'idle';
  } catch {
    // No native addon here: fall back to nice.
  }
  try {
    setPriority(0, 19);
    return 'nice';
  } catch (err) {
    log.warn({ reason: (err as Error).message }, 'could not lower the refit thread priority');
    return 'unchanged';
  }
}
