/**
 * What the refit worker does, loaded by refit-worker.ts only after it has lowered its thread's
 * priority: trains a candidate residual on the transitions it is sent, scores it and the
 * residual in use on the held-out most recent transitions, saves the candidate to the model
 * store, and answers whether it is better.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { Rng } from '../core/rng.js';
import { buildAnalyticModel } from '../models/build-model.js';
import { trainEnsemble } from '../models/residual/ensemble-trainer.js';
import { selectTfBackend, type TfBackendName } from '../models/residual/tf-backend.js';
import { ModelStore } from './model-store.js';
import type { RefitRequest, RefitResponse } from './refit-protocol.js';
import { buildResidualDataset, snapshotScore } from './residual-dataset.js';
import { fitTerminalValue } from './terminal-value.js';
import { requireResidualSpec, trainOptionsFor } from './residual-spec-for-config.js';

/**
 * Everything a first refit would otherwise do for the first time while the robot runs: picks
 * the tfjs backend (compiling its WebAssembly) and trains a throwaway ensemble for a few epochs
 * on made-up transitions, so tfjs's kernels and the trainer's code are compiled before the
 * control loop starts. Returns the backend.
 */
export async function warmUp(config: Config, log: Logger): Promise<TfBackendName> {
  const residual = config.model.residual;
  if (residual === undefined) throw new Error('config has no model.residual');
  const backend = await selectTfBackend(residual.backend, log);
  const analytic = buildAnalyticModel(config, 1024);
  const spec = requireResidualSpec(config, analytic, 'the config');
  const n = 256;
  const rowSize = 2 * spec.stateNames.length + spec.actionNames.length;
  const rows = new Float32Array(n * rowSize); // [n, nx + nu + nx]
  const rng = new Rng(1);
  for (let i = 0; i < rows.length; i++) rows[i] = rng.normal() * 0.5;
  const data = buildResidualDataset(spec, analytic, rows, n, config.control.period);
  trainEnsemble(spec, data, { ...trainOptionsFor(config, 1), maxEpochs: 20, patience: 20, maxSeconds: 10 });
  return backend;
}

export async function refit(req: RefitRequest, log: Logger, beforeBatch: (() => void) | undefined): Promise<RefitResponse> {
  const c = req.config;
  const residual = c.model.residual;
  if (residual === undefined) throw new Error('config has no model.residual');
  const backend = await selectTfBackend(residual.backend, log);
  const analytic = buildAnalyticModel(c, 1024);
  const spec = requireResidualSpec(c, analytic, 'the refit request');
  const dt = c.control.period;
  const rowSize = 2 * spec.stateNames.length + spec.actionNames.length;
  const nTrain = req.n - req.holdout;
  const train = buildResidualDataset(spec, analytic, req.rows, nTrain, dt);
  const { snapshot, report } = trainEnsemble(spec, train, trainOptionsFor(c, req.seed), undefined, beforeBatch);
  const held = req.rows.subarray(nTrain * rowSize, req.n * rowSize);
  const score = snapshotScore(analytic, snapshot, held, req.holdout, dt);
  const previousScore = snapshotScore(analytic, req.current?.snapshot, held, req.holdout, dt);
  const accepted = score < previousScore;
  const value = accepted && c.learning.value.enabled ? fitTerminalValue(c, snapshot, req.rows, req.n, req.seed, log) : undefined;
  const { version } = new ModelStore(req.storeDir).save(snapshot, {
    accepted,
    data: { transitions: req.span.transitions, t_from: req.span.t_from, t_to: req.span.t_to, sources: ['live'] },
    validation: { score, previous_score: previousScore, previous_version: req.current?.version ?? 0, holdout: req.holdout },
    training: { epochs: report.epochs, seconds: report.seconds, stopped_by: report.stoppedBy, member_validation_mse: report.memberValidationMse, backend },
  }, value);
  log.info({ version, accepted, score, previousScore, epochs: report.epochs, seconds: report.seconds, rows: nTrain }, 'refit done');
  return { kind: 'result', id: req.id, version, accepted, score, previousScore, report, backend, snapshot: accepted ? snapshot : undefined, value };
}
