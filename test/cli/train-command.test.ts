import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { modelListCommand, modelUseCommand } from '../../src/cli/model-command.js';
import { trainCommand } from '../../src/cli/train-command.js';
import { loadConfig } from '../../src/config/load-config.js';
import { MpcdError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { ModelStore } from '../../src/learning/model-store.js';
import { predictionScore } from '../../src/learning/residual-dataset.js';
import { residualSpecForConfig } from '../../src/learning/residual-spec-for-config.js';
import { TransitionLogWriter } from '../../src/log/transition-log-writer.js';
import type { RunInfo } from '../../src/log/transition-schema.js';
import { createAnalytic } from '../../src/models/analytic/registry.js';
import { buildModel } from '../../src/models/build-model.js';
import type { DynamicsModel } from '../../src/models/dynamics.js';
import { discretize } from '../../src/models/integrators.js';
import { ResidualPredictor } from '../../src/models/residual/residual-predictor.js';
import { sampleInfo, sampleTransition } from '../log/fixtures/sample-transitions.js';

const repo = join(import.meta.dirname, '..', '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'mpcd-train-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const DT = 0.02;
const T0 = 1_700_000_000;
const STEPS = 100;
// "The robot": the config's cart-pole (pole 0.1 kg, no damping) with a pole three times heavier
// and a damped hinge, so the analytic model is wrong in a way a residual can learn.
const robot = discretize(createAnalytic('cartpole', { cart_mass: 1, pole_mass: 0.3, pole_length: 1, gear: 10, pole_damping: 0.05 }), 'rk4', 1, 1);

/** Rows (s, a, s') [n, 9] of the robot under uniform random actions, from random states. */
function robotRows(episodes: number, seed: number): { rows: Float32Array; n: number } {
  const rng = new Rng(seed);
  const n = episodes * STEPS;
  const rows = new Float32Array(n * 9);
  const s = new Float32Array(4);
  const a = new Float32Array(1);
  const next = new Float32Array(4);
  for (let e = 0; e < episodes; e++) {
    s.set([rng.uniform() - 0.5, (rng.uniform() * 2 - 1) * Math.PI, rng.uniform() * 2 - 1, rng.uniform() * 2 - 1]);
    for (let k = 0; k < STEPS; k++) {
      a[0] = rng.uniform() * 2 - 1;
      robot.step(s, a, next, 1, DT);
      const r = (e * STEPS + k) * 9;
      rows.set(s, r);
      rows[r + 4] = a[0];
      rows.set(next, r + 5);
      s.set(next);
    }
  }
  return { rows, n };
}

/** Writes a log of the robot; returns the transitions written and the file offset where the last record ends. */
async function writeRobotLog(path: string, info: RunInfo, episodes: number, seed: number): Promise<{ n: number; dataEnd: number }> {
  const { rows, n } = robotRows(episodes, seed);
  const writer = TransitionLogWriter.open(path, info);
  for (let i = 0; i < n; i++) {
    const r = rows.subarray(i * 9, (i + 1) * 9);
    writer.append({
      t: i * DT,
      episode: Math.floor(i / STEPS),
      step: i % STEPS,
      state: Array.from(r.subarray(0, 4)),
      action: [r[4]!],
      next_state: Array.from(r.subarray(5, 9)),
      cost: 0,
      flags: 0,
      model_version: 0,
    });
  }
  const dataEnd = writer.bytesWritten;
  await writer.close();
  return { n, dataEnd };
}

const cartpoleInfo = (start: number): RunInfo => ({ state_names: ['x', 'theta', 'x_dot', 'theta_dot'], action_names: ['u'], control_period: DT, config: '', start_time: start });

/** The example config with a small residual and a short training: seconds, not minutes. */
function writeConfig(name: string, withResidual = true): string {
  let text = readFileSync(join(repo, 'config', 'cartpole-swingup.yaml'), 'utf8');
  if (withResidual) text = text.replace('  substeps: 1\n', '  substeps: 1\n  residual: { members: 3, elites: 2, hidden: [32, 32], backend: cpu }\n');
  text += `\nlearning:\n  model_dir: ${join(tmp, 'config-models')}\n  min_transitions: 200\n  max_epochs: 25\n  patience: 25\n  batch_size: 64\n  max_seconds: 60\n`;
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

/** Runs a command and returns what it wrote to stdout. */
async function capture(run: (write: (t: string) => void) => number | Promise<number>): Promise<{ code: number; out: string; last: unknown }> {
  let out = '';
  const code = await run((t) => (out += t));
  const lastLine = out.trim().split('\n').at(-1) ?? '';
  let last: unknown;
  try {
    last = JSON.parse(lastLine);
  } catch {
    last = undefined;
  }
  return { code, out, last };
}

interface TrainSummary {
  version: number;
  accepted: boolean;
  score: number;
  previous_score: number;
  previous_version: number;
  transitions: number;
  holdout: number;
  logs: number;
  torn_logs: number;
  epochs: number;
}

const logDir = join(tmp, 'logs');
const storeDir = join(tmp, 'store');
let written = 0;

before(async () => {
  written += (await writeRobotLog(join(logDir, 'run-a.mcap'), cartpoleInfo(T0), 3, 1)).n;
  const b = join(logDir, 'later', 'run-b.mcap');
  const { n, dataEnd } = await writeRobotLog(b, cartpoleInfo(T0 + 100), 3, 2);
  written += n;
  // A crash mid-write: the summary, the footer and half of the last record are gone.
  truncateSync(b, dataEnd - 50);
  writeFileSync(join(logDir, 'notes.txt'), 'not a log');
});

test('train fits a residual from a folder of logs (one torn), saves it, and it beats the analytic model', async () => {
  const config = writeConfig('train.yaml');
  const r = await capture((w) => trainCommand({ inputs: [logDir], config, modelDir: storeDir, json: true }, w));
  assert.equal(r.code, 0);
  const s = r.last as TrainSummary;
  assert.equal(s.version, 1);
  assert.equal(s.logs, 2, 'both .mcap files, found recursively; notes.txt ignored');
  assert.equal(s.torn_logs, 1);
  assert.equal(s.transitions, written - 1, 'every complete record; the torn last one is lost');
  assert.equal(s.holdout, Math.floor(s.transitions * 0.15));
  assert.equal(s.previous_version, 0, 'nothing stored before: compared with the analytic model');
  assert.ok(s.score < 0.5 * s.previous_score, `held-out score ${s.score} vs analytic ${s.previous_score}`);
  assert.equal(s.accepted, true);

  const store = new ModelStore(storeDir);
  const listed = store.list();
  assert.equal(listed.length, 1);
  const meta = listed[0]!.meta!;
  assert.equal(listed[0]!.problem, undefined);
  assert.equal(meta.accepted, true);
  assert.equal(meta.data.transitions, s.transitions);
  assert.deepEqual(meta.data.sources, [join(logDir, 'run-a.mcap'), join(logDir, 'later', 'run-b.mcap')]);
  assert.equal(meta.data.t_from, T0, 'the oldest transition of the oldest run');
  assert.ok(Math.abs(meta.data.t_to! - (T0 + 100 + (s.transitions - 301) * DT)) < 1e-6, 'the newest transition of the newest run');
  assert.equal(meta.validation.holdout, s.holdout);
  assert.equal(meta.training.epochs, s.epochs);
  assert.equal(meta.training.backend, 'cpu');

  // On fresh robot data it never saw, the stored model predicts better than the analytic one.
  const loaded = (await loadConfig(config)).config;
  const analytic: DynamicsModel = buildModel(loaded, 1024);
  const preferred = store.loadPreferred(residualSpecForConfig(loaded, analytic), { info() {}, warn() {} });
  assert.equal(preferred?.version, 1);
  const fresh = robotRows(2, 99);
  const predictor = new ResidualPredictor(preferred!.snapshot, analytic.maxBatch);
  const withResidual = predictionScore(analytic, predictor, fresh.rows, fresh.n, DT);
  predictor.dispose();
  const analyticOnly = predictionScore(analytic, undefined, fresh.rows, fresh.n, DT);
  assert.ok(withResidual < 0.5 * analyticOnly, `fresh data: ${withResidual} with the residual vs ${analyticOnly} without`);

  // Trained again on the same logs: scored against v1 on the same held-out transitions.
  const again = await capture((w) => trainCommand({ inputs: [logDir], config, modelDir: storeDir, json: true }, w));
  const s2 = again.last as TrainSummary;
  assert.equal(s2.version, 2);
  assert.equal(s2.previous_version, 1);
  assert.equal(s2.previous_score, s.score, 'v1 rescored on the same held-out transitions');
  assert.equal(s2.accepted, s2.score < s2.previous_score);

  // model list shows both; model use pins v1 (rollback) and --latest unpins.
  const list = await capture((w) => modelListCommand({ config, modelDir: storeDir, json: true }, w));
  const l = list.last as { versions: { version: number; accepted: boolean; transitions: number; problem?: string }[]; start_version: number; pinned: number | null };
  assert.deepEqual(l.versions.map((v) => [v.version, v.transitions, v.problem]), [
    [1, s.transitions, undefined],
    [2, s.transitions, undefined],
  ]);
  assert.equal(l.start_version, s2.accepted ? 2 : 1);
  assert.equal(l.pinned, null);
  const human = await capture((w) => modelListCommand({ config, modelDir: storeDir, json: false }, w));
  assert.match(human.out, /^ ?\*?v1 .* yes /m);
  assert.match(human.out, new RegExp(`store: ${storeDir}`));

  await capture((w) => modelUseCommand({ config, modelDir: storeDir, json: false, version: 'v1', latest: false }, w));
  assert.equal(store.pinnedVersion(), 1);
  const pinned = await capture((w) => modelListCommand({ config, modelDir: storeDir, json: true }, w));
  assert.equal((pinned.last as { start_version: number }).start_version, 1);
  await capture((w) => modelUseCommand({ config, modelDir: storeDir, json: false, version: undefined, latest: true }, w));
  assert.equal(store.pinnedVersion(), undefined);
});

test('logs of another robot are refused, naming the file', async () => {
  const other = join(tmp, 'other', 'other-robot.mcap');
  const writer = TransitionLogWriter.open(other, sampleInfo);
  for (let i = 0; i < 300; i++) writer.append(sampleTransition(i));
  await writer.close();
  await assert.rejects(
    trainCommand({ inputs: [logDir, other], config: writeConfig('mismatch.yaml'), modelDir: join(tmp, 'unused-1'), json: true }, () => {}),
    (e: unknown) => e instanceof MpcdError && e.code === 'TRAIN_LOG_MISMATCH' && e.message.includes(other) && /states \[x, x_dot, theta, theta_dot\]/.test(e.message),
  );
});

test('a config without model.residual is refused with what to add', async () => {
  await assert.rejects(
    trainCommand({ inputs: [logDir], config: writeConfig('no-residual.yaml', false), modelDir: join(tmp, 'unused-2'), json: true }, () => {}),
    (e: unknown) => e instanceof MpcdError && e.code === 'NO_RESIDUAL' && /add one under model:/.test(e.message),
  );
});

test('too few clean transitions is a clear error, not a bad model', async () => {
  const small = join(tmp, 'small', 'short.mcap');
  mkdirSync(join(tmp, 'small'), { recursive: true });
  await writeRobotLog(small, cartpoleInfo(T0), 1, 5); // 100 transitions < min_transitions 200
  await assert.rejects(
    trainCommand({ inputs: [small], config: writeConfig('small.yaml'), modelDir: join(tmp, 'unused-3'), json: true }, () => {}),
    (e: unknown) => e instanceof MpcdError && e.code === 'TRAIN_DATA' && /only 100 clean transitions/.test(e.message),
  );
});

test('--value-only keeps the preferred version residual and adds a terminal value; with nothing stored it says what to run first', async () => {
  const config = writeConfig('value-only.yaml');
  appendFileSync(config, '  value: { enabled: true, starts: 64, sequences: 8, steps: 5, refinements: 2, members: 2, max_epochs: 5 }\n');
  const dir = join(tmp, 'value-only-store');
  await assert.rejects(
    trainCommand({ inputs: [logDir], config, modelDir: dir, json: true, valueOnly: true }, () => {}),
    (e: unknown) => e instanceof MpcdError && e.code === 'TRAIN_DATA' && /run mpcd train without --value-only first/.test(e.message),
  );
  const first = (await capture((w) => trainCommand({ inputs: [logDir], config, modelDir: dir, json: true }, w))).last as TrainSummary;
  assert.equal(first.accepted, true);
  const r = await capture((w) => trainCommand({ inputs: [logDir], config, modelDir: dir, json: true, valueOnly: true }, w));
  const s = r.last as { version: number; residual_of: number; transitions: number; value_members: number };
  assert.equal(s.version, 2);
  assert.equal(s.residual_of, 1);
  assert.equal(s.transitions, first.transitions, 'every logged state is a start candidate, none held out');
  const store = new ModelStore(dir);
  const preferred = store.loadPreferred(undefined, { info() {}, warn() {} });
  assert.equal(preferred?.version, 2, 'the daemon starts from the version with the value');
  assert.deepEqual(preferred.snapshot, store.load(1).snapshot, 'the residual is v1 bit for bit');
  assert.equal(preferred.value?.members, 2);
});
