/**
 * The refit worker thread: trains a candidate residual on the transitions it is sent, scores it
 * and the residual in use on the held-out most recent transitions, saves the candidate to the
 * model store, and answers whether it is better. All of the heavy work (training, disk) happens
 * here, off the control path; the main thread only swaps a reference.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { buildAnalyticModel } from '../models/build-model.js';
import { trainEnsemble } from '../models/residual/ensemble-trainer.js';
import { selectTfBackend } from '../models/residual/tf-backend.js';
import { createLogger } from '../telemetry/logger.js';
import { lowerThreadPriority, type BackgroundPriority } from './background-priority.js';
import { ModelStore } from './model-store.js';
import { PlanningGate } from './planning-gate.js';
import type { RefitRequest, RefitResponse } from './refit-protocol.js';
import { buildResidualDataset, snapshotScore } from './residual-dataset.js';
import { fitTerminalValue } from './terminal-value.js';
import { requireResidualSpec, trainOptionsFor } from './residual-spec-for-config.js';

const log = createLogger('mpcd-refit');

// Training yields the CPU to the planner's threads.
const setup = workerData as { results: MessagePort; priority: BackgroundPriority; gate: SharedArrayBuffer | undefined };
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
log.debug({ priority: lowerThreadPriority(log, setup.priority) }, 'refit thread priority');
const port = parentPort;
if (port === null) throw new Error('refit-worker.js must run as a worker thread');
/** Answers go on their own channel, which the main thread polls between control ticks. */
const results = setup.results;

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
  const { snapshot, report } = trainEnsemble(spec, train, trainOptionsFor(c, req.seed), undefined, betweenTicks(1000 * c.control.period));
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
