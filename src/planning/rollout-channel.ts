import type { Config } from '../config/schema.js';
import type { EnsembleSnapshot } from '../models/residual/ensemble-snapshot.js';
import type { ValueSnapshot } from '../models/value/value-snapshot.js';
import type { MessagePort } from 'node:worker_threads';

/**
 * How the planner's thread and its rollout workers talk without allocating per tick: shared
 * memory for the data, one row of Int32 slots per worker for the handshake, woken with
 * Atomics.notify. Model changes (a refit's new residual) are rare and go as messages, which a
 * worker drains synchronously before the job that needs them.
 */
export const Slot = {
  /** Job number; the planner bumps it to start a job. */
  job: 0,
  /** Last job finished. */
  done: 1,
  /** The job's share: samples [first, first + count) of `total`. */
  first: 2,
  count: 3,
  total: 4,
  /** Serial of the model update the job needs. */
  update: 5,
  state: 6,
  stop: 7,
  /** 1 when the last job failed; its error came as a message. */
  failed: 8,
} as const;
export const SLOTS = 9;

export const WorkerState = { starting: 0, ready: 1, failed: 2 } as const;

export interface RolloutWorkerInit {
  readonly config: Config;
  readonly index: number;
  /** Most samples this worker is ever given. */
  readonly maxShare: number;
  readonly maxSamples: number;
  readonly actions: SharedArrayBuffer; // Float32 [H, maxSamples, nu]
  readonly costs: SharedArrayBuffer; // Float32 [maxSamples]
  readonly x0: SharedArrayBuffer; // Float32 [nx]
  /** Float64 [live params]: the planner's goals, written between jobs (LiveParamValues). */
  readonly liveParams: SharedArrayBuffer;
  readonly control: SharedArrayBuffer; // Int32 [workers, SLOTS]
  readonly port: MessagePort;
}

/** planner -> worker: the residual and value to plan with from job `serial` on. */
export interface ModelUpdate {
  readonly serial: number;
  readonly version: number;
  readonly residual: EnsembleSnapshot | undefined;
  readonly value: ValueSnapshot | undefined;
}

/** worker -> planner: why it failed to start or to finish a job. */
export interface WorkerFailure {
  readonly error: string;
}
