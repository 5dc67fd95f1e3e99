import type { Config } from '../config/schema.js';
import type { EnsembleSnapshot } from '../models/residual/ensemble-snapshot.js';
import type { TrainReport } from '../models/residual/ensemble-trainer.js';
import type { ValueSnapshot } from '../models/value/value-snapshot.js';

/** Main thread -> refit worker: fit a new residual on these transitions. */
export interface RefitRequest {
  readonly id: number;
  readonly config: Config;
  /** (s, a, s') rows [n, nx + nu + nx], oldest first; the last `holdout` rows are never trained on. */
  readonly rows: Float32Array;
  readonly n: number;
  readonly holdout: number;
  /** The residual in use, to beat on the held-out rows; absent = the analytic model alone. */
  readonly current: { readonly snapshot: EnsembleSnapshot; readonly version: number } | undefined;
  readonly storeDir: string;
  readonly span: { readonly t_from: number; readonly t_to: number; readonly transitions: number };
  readonly seed: number;
}

/** Refit worker -> main thread. */
export type RefitResponse =
  | {
      readonly kind: 'result';
      readonly id: number;
      /** Version number the candidate was stored under (accepted or not). */
      readonly version: number;
      readonly accepted: boolean;
      readonly score: number;
      readonly previousScore: number;
      readonly report: TrainReport;
      readonly backend: string;
      /** Present when accepted: the residual to swap in. */
      readonly snapshot: EnsembleSnapshot | undefined;
      /** With learning.value.enabled and accepted: the terminal value fitted on the new model. */
      readonly value: ValueSnapshot | undefined;
    }
  | { readonly kind: 'error'; readonly id: number; readonly message: string }
  /** Once, when the worker has loaded and warmed up; `error` when the warm-up failed. */
  | { readonly kind: 'ready'; readonly backend: string; readonly priority: string; readonly pinned: boolean; readonly error?: string };
