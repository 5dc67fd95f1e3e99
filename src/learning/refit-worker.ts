/**
 * The refit worker thread: trains a candidate residual on the transitions it is sent, scores it
 * and the residual in use on the held-out most recent transitions, saves the candidate to the
 * model store, and answers whether it is better. All of the heavy work (training, disk) happens
 * here, off the control path; the main thread only swaps a reference.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { buildAnalyticModel } from '../models/build-model.js';
import { trainEnsemble } from '../models/residual/ensemble-trainer.js';
import { selectTfBackend } from '../models/residual/tf-backend.js';
import { createLogger } from '../telemetry/logger.js';
import { ModelStore } from './model-store.js';
import type { RefitRequest, RefitResponse } from './refit-protocol.js';
import { buildResidualDataset, snapshotScore } from './residual-dataset.js';
import { fitTerminalValue } from './terminal-value.js';
import { requireResidualSpec, trainOptionsFor } from './residual-spec-for-config.js';

const log = createLogger('mpcd-refit');

// Training yields the CPU to the control thread: on Linux a nice value is per thread, so this
// lowers only this worker. Where it is refused (no permission, another OS) training still runs.
try {
  setPriority(0, 19);
} catch (err) {
  log.warn({ reason: (err as Error).message }, 'could not lower the refit thread priority');
}
const port = parentPort;
if (port === null) throw new Error('refit-worker.js must run as a worker thread');
/** Answers go on their own channel, which the main thread polls between control ticks. */
const results = (workerData as { results: MessagePort }).results;

port.on('message', (req: RefitRequest) => {
  refit(req).then(
    (res) => results.postMessage(res),
    (err: unknown) => results.postMessage({ kind: 'error', id: req.id, message: err instanceof Error ? err.message : String(err) } satisfies RefitResponse),
  );
});

async function refit(req: RefitRequest): Promise<RefitResponse> {
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
  const { snapshot, report } = trainEnsemble(spec, train, trainOptionsFor(c, req.seed));
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
