/**
 * The refit worker thread. All of the heavy work (training, disk) happens here, off the control
 * path; the main thread only swaps a reference. It steps back before it loads anything heavy:
 * loading tfjs and compiling its WebAssembly at the planner's priority would show in the
 * planner's p99, so the thread's priority drops first, then the job's modules load and warm up
 * (see refit-job.ts), and only then does it say it is ready.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import { createLogger } from '../telemetry/logger.js';
import { pinThisThread } from '../core/cpu-affinity.js';
import { lowerThreadPriority, type BackgroundPriority } from './background-priority.js';
import { PlanningGate } from './planning-gate.js';
import type { RefitRequest, RefitResponse } from './refit-protocol.js';

const log = createLogger('mpcd-refit');
const setup = workerData as { results: MessagePort; priority: BackgroundPriority; gate: SharedArrayBuffer | undefined; config: Config };
const priority = lowerThreadPriority(log, setup.priority);
const pinned = pinThisThread(setup.config.learning.cpus, 'learning.cpus', log);
log.debug({ priority, pinned }, 'refit thread priority');
const port = parentPort;
if (port === null) throw new Error('refit-worker.js must run as a worker thread');
/** Answers go on their own channel, which the main thread polls between control ticks. */
const results = setup.results;

/** Before each training batch: leave the real-time planner its ticks (see planning-gate.ts). */
const gate = setup.gate === undefined ? undefined : new PlanningGate(setup.gate);
function betweenTicks(periodMs: number): (() => void) | undefined {
  if (gate === undefined) return undefined;
  let batchMs = 2; // a running estimate of one batch's time, with the wait excluded
  let started = -1;
  return () => {
    if (started >= 0) batchMs = 0.8 * batchMs + 0.2 * (performance.now() - started);
    gate.waitForRoom(periodMs, 1.5 * batchMs);
    started = performance.now();
  };
}

const job = await import('./refit-job.js');
try {
  const backend = await job.warmUp(setup.config, log);
  results.postMessage({ kind: 'ready', backend, priority, pinned } satisfies RefitResponse);
} catch (err) {
  // A refit would fail the same way and say so; the daemon runs on the model it has.
  const message = err instanceof Error ? err.message : String(err);
  results.postMessage({ kind: 'ready', backend: 'none', priority, pinned, error: message } satisfies RefitResponse);
}

port.on('message', (req: RefitRequest) => {
  job.refit(req, log, betweenTicks(1000 * req.config.control.period)).then(
    (res) => results.postMessage(res),
    (err: unknown) => results.postMessage({ kind: 'error', id: req.id, message: err instanceof Error ? err.message : String(err) } satisfies RefitResponse),
  );
});
