import { TRAIN_USAGE } from './usage.js';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { MpcdError } from '../core/errors.js';
import { ModelStore, resolveModelDir } from '../learning/model-store.js';
import { ReplayBuffer } from '../learning/replay-buffer.js';
import { buildResidualDataset, snapshotScore } from '../learning/residual-dataset.js';
import { holdoutCount, requireResidualSpec, trainOptionsFor } from '../learning/residual-spec-for-config.js';
import { findTransitionLogs, readLogsIntoBuffer, type LogIngest } from '../learning/transition-log-source.js';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { ResidualSpec } from '../models/residual/residual-spec.js';
import { buildModel } from '../models/build-model.js';
import { trainEnsemble } from '../models/residual/ensemble-trainer.js';
import { fitTerminalValue } from '../learning/terminal-value.js';
import { selectTfBackend } from '../models/residual/tf-backend.js';
import { createLogger } from '../telemetry/logger.js';
import { progressBar } from './progress.js';
import { round } from './round.js';

export interface TrainArgs {
  /** Transition logs (.mcap) and folders holding them. */
  inputs: string[];
  config: string;
  modelDir: string | undefined;
  json: boolean;
  /** Keep the preferred version's residual and fit only its terminal value (learning.value). */
  valueOnly?: boolean;
}

/** Where the command's result goes; stdout unless a test captures it. */
export type Write = (text: string) => void;
const stdout: Write = (text) => process.stdout.write(text);

/**
 * `mpcd train`: fits the residual ensemble offline on recorded transition logs, scores it
 * against the currently preferred stored model (or the analytic model) on the most recent
 * transitions, held out, and saves it as a new version, accepted when it scores better.
 */
export async function trainCommand(args: TrainArgs, write: Write = stdout): Promise<number> {
  const loaded = await loadConfig(args.config);
  const c = loaded.config;
  const L = c.learning;
  const analytic = buildModel(c, 1024);
  const spec = requireResidualSpec(c, analytic, loaded.path);
  const residual = c.model.residual!;
  const dt = c.control.period;
  const log = createLogger('mpcd-train');
  const store = new ModelStore(resolveModelDir(c, args.modelDir));

  const files = findTransitionLogs(args.inputs);
  const buffer = new ReplayBuffer(spec.stateNames.length, spec.actionNames.length, L.buffer_capacity);
  const ingest = readLogsIntoBuffer(files, { stateNames: spec.stateNames, actionNames: spec.actionNames, period: dt }, buffer);
  // One line per torn log: how many transitions it held, and that the daemon stopped writing it.
  for (const t of ingest.torn) log.warn({ file: t.file, transitions: t.transitions, ...(t.damage !== undefined ? { damage: t.damage } : {}) }, t.note);

  const n = buffer.size;
  if (n < L.min_transitions)
    throw new MpcdError(
      'TRAIN_DATA',
      `only ${n} clean transitions in ${files.length} log(s) (${ingest.skipped} flagged or non-finite were skipped); ` +
        `learning.min_transitions is ${L.min_transitions}: record more, or lower learning.min_transitions`,
    );
  const rows = buffer.snapshot();
  const backend = await selectTfBackend(residual.backend, log);
  if (args.valueOnly === true) return fitValueOnly(c, store, spec, rows, n, ingest, args.json, write, log);
  const holdout = holdoutCount(c, n);
  const nTrain = n - holdout;
  const trainRows = rows.subarray(0, nTrain * buffer.rowSize);
  const heldOut = rows.subarray(nTrain * buffer.rowSize);
  const dataset = buildResidualDataset(spec, analytic, trainRows, nTrain, dt);

  const bar = args.json ? undefined : progressBar(L.max_epochs, 'training');
  let trained: ReturnType<typeof trainEnsemble>;
  try {
    trained = trainEnsemble(
      spec,
      dataset,
      trainOptionsFor(c, c.seed),
      (epoch, bestMse) => bar?.update(epoch, { info: `best validation mse ${bestMse.toPrecision(3)}` }),
    );
  } finally {
    bar?.stop();
  }
  const { snapshot, report } = trained;

  // The bar to clear: the model a daemon would start with now, on the same held-out transitions.
  const previous = store.loadPreferred(spec, log);
  const score = snapshotScore(analytic, snapshot, heldOut, holdout, dt);
  const previousScore = snapshotScore(analytic, previous?.snapshot, heldOut, holdout, dt);
  const accepted = Number.isFinite(score) && score < previousScore;

  const value = accepted && c.learning.value.enabled ? fitTerminalValue(c, snapshot, trainRows, nTrain, c.seed, log) : undefined;
  const saved = store.save(snapshot, {
    accepted,
    data: { transitions: n, t_from: ingest.tFrom ?? null, t_to: ingest.tTo ?? null, sources: ingest.files },
    validation: { score, previous_score: previousScore, previous_version: previous?.version ?? 0, holdout },
    training: { epochs: report.epochs, seconds: report.seconds, stopped_by: report.stoppedBy, member_validation_mse: report.memberValidationMse, backend },
  }, value);

  const summary = {
    version: saved.version,
    dir: saved.dir,
    accepted,
    score: round(score, 5),
    previous_score: round(previousScore, 5),
    previous_version: previous?.version ?? 0,
    transitions: n,
    trained_on: nTrain,
    holdout,
    skipped: ingest.skipped,
    logs: ingest.files.length,
    torn_logs: ingest.torn.length,
    epochs: report.epochs,
    stopped_by: report.stoppedBy,
    seconds: round(report.seconds, 2),
    backend,
  };
  if (args.json) {
    write(`${JSON.stringify(summary)}\n`);
  } else {
    const against = previous !== undefined ? `version ${previous.version}` : 'the analytic model';
    write(
      [
        `trained on ${nTrain} transitions from ${ingest.files.length} log(s)${ingest.torn.length > 0 ? ` (${ingest.torn.length} torn, their complete records used)` : ''}; ${ingest.skipped} skipped as flagged or non-finite`,
        `${report.epochs} epochs in ${report.seconds.toFixed(1)} s (stopped by ${report.stoppedBy.replace('_', ' ')}), tfjs backend ${backend}`,
        `held-out score on the ${holdout} most recent transitions: ${fmt(score)} vs ${fmt(previousScore)} for ${against} (lower is better)`,
        `saved version ${saved.version} in ${saved.dir}: ${accepted ? 'accepted, the daemon starts from it' : `not accepted (no better than ${against}); kept for inspection`}`,
        '',
      ].join('\n'),
    );
  }
  return 0;
}

/**
 * `--value-only`: a new version with the preferred version's residual and a terminal value fitted
 * on imagined rollouts of it, branched from every logged state; the residual is not retrained.
 */
function fitValueOnly(
  c: Config,
  store: ModelStore,
  spec: ResidualSpec,
  rows: Float32Array,
  n: number,
  ingest: LogIngest,
  json: boolean,
  write: Write,
  log: Logger,
): number {
  const previous = store.loadPreferred(spec, log);
  if (previous === undefined)
    throw new MpcdError('TRAIN_DATA', `no usable stored model in ${store.dir} to fit a terminal value for: run mpcd train without --value-only first`);
  const t0 = performance.now();
  const value = fitTerminalValue(c, previous.snapshot, rows, n, c.seed, log);
  const seconds = (performance.now() - t0) / 1000;
  const saved = store.save(
    previous.snapshot,
    {
      accepted: true,
      data: { transitions: n, t_from: ingest.tFrom ?? null, t_to: ingest.tTo ?? null, sources: ingest.files },
      validation: { ...previous.meta.validation, previous_version: previous.version },
      training: previous.meta.training,
    },
    value,
  );
  const v = c.learning.value;
  if (json) write(`${JSON.stringify({ version: saved.version, dir: saved.dir, residual_of: previous.version, transitions: n, value_members: v.members, value_rounds: v.rounds, seconds: round(seconds, 2) })}\n`);
  else
    write(
      `fitted a terminal value (${v.members} networks, ${v.rounds} round(s) of ${v.steps} imagined steps from ${v.starts} starts) on version ${previous.version}'s residual ` +
        `in ${seconds.toFixed(1)} s; saved version ${saved.version} in ${saved.dir}, the daemon starts from it\n`,
    );
  return 0;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(4) : String(x);
}

/** Parses `mpcd train ...` arguments (after the word `train`) and runs it. */
export function trainMain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string' }, 'model-dir': { type: 'string' }, json: { type: 'boolean', default: false }, 'value-only': { type: 'boolean', default: false } },
  });
  if (values.config === undefined) throw new MpcdError('USAGE', `train needs --config CFG\n\n${TRAIN_USAGE}`);
  if (positionals.length === 0) throw new MpcdError('USAGE', `train needs transition logs or folders that hold them\n\n${TRAIN_USAGE}`);
  return trainCommand({ inputs: positionals, config: values.config, modelDir: values['model-dir'], json: values.json, valueOnly: values['value-only'] });
}
