import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { learningSchema } from '../../src/config/learning-schema.js';
import { MpcdError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { ModelFileError, ModelStore, resolveModelDir, type ModelSaveInfo } from '../../src/learning/model-store.js';
import { snapshotArrays, type EnsembleSnapshot } from '../../src/models/residual/ensemble-snapshot.js';
import { layerWidths, type ResidualSpec } from '../../src/models/residual/residual-spec.js';
import { valueArrays } from '../../src/models/value/value-snapshot.js';
import { testValueSnapshot } from '../models/value/value-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'mpcd-model-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let stores = 0;
const freshDir = () => join(root, `store-${++stores}`);

const cartpole: ResidualSpec = { stateNames: ['x', 'theta', 'x_dot', 'theta_dot'], actionNames: ['u'], angular: [false, true, false, false], hidden: [8, 6], members: 3 };
const pendulum: ResidualSpec = { stateNames: ['theta', 'theta_dot'], actionNames: ['tau'], angular: [true, false], hidden: [8, 6], members: 3 };

/** A snapshot of random (but finite) numbers with the spec's shapes. */
function randomSnapshot(spec: ResidualSpec, seed: number): EnsembleSnapshot {
  const rng = new Rng(seed);
  const fill = (n: number, positive = false) => {
    const a = new Float32Array(n);
    rng.fillNormal(a);
    return positive ? a.map((v) => Math.abs(v) + 0.1) : a;
  };
  const w = layerWidths(spec);
  const nx = spec.stateNames.length;
  return {
    spec,
    input: { mean: fill(w[0]!), std: fill(w[0]!, true) },
    target: { mean: fill(nx), std: fill(nx, true) },
    layers: w.slice(1).map((out, l) => ({ weights: fill(spec.members * w[l]! * out), bias: fill(spec.members * out) })),
    maxLogVar: fill(nx),
    minLogVar: fill(nx),
    elites: [2, 0],
  };
}

function info(accepted: boolean, score = 0.5): ModelSaveInfo {
  return {
    accepted,
    data: { transitions: 1200, t_from: 1_700_000_000, t_to: 1_700_000_024, sources: ['runs/a.mcap'] },
    validation: { score, previous_score: 1.01, previous_version: 0, holdout: 180 },
    training: { epochs: 17, seconds: 3.5, stopped_by: 'patience', member_validation_mse: [0.1, 0.2, 0.15], backend: 'cpu' },
  };
}

/** A logger that keeps what it was told. */
function recordingLog() {
  const records: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  return {
    records,
    info: (obj: object, msg: string) => records.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    warn: (obj: object, msg: string) => records.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
  };
}

function assertLoadFails(store: ModelStore, version: number, code: string, file: string, reason: RegExp, spec?: ResidualSpec): void {
  assert.throws(
    () => store.load(version, spec),
    (err: unknown) => {
      assert.ok(err instanceof ModelFileError && err instanceof MpcdError, `expected a ModelFileError, got ${String(err)}`);
      assert.equal(err.code, code);
      assert.equal(err.file, file);
      assert.match(err.reason, reason);
      assert.ok(err.message.includes(file), 'the message names the file');
      assert.match(err.message, reason);
      return true;
    },
  );
}

test('save, list and load round-trip a snapshot bit-exactly, with its metadata', () => {
  const store = new ModelStore(freshDir());
  assert.deepEqual(store.list(), [], 'a store that does not exist yet is empty');
  const a = randomSnapshot(cartpole, 1);
  const b = randomSnapshot(cartpole, 2);
  const saved1 = store.save(a, info(true, 0.4));
  const saved2 = store.save(b, info(false, 0.7));
  assert.equal(saved1.version, 1);
  assert.equal(saved2.version, 2);
  assert.deepEqual(readdirSync(store.dir).sort(), ['v000001', 'v000002']);

  const { snapshot, meta } = store.load(1, cartpole);
  assert.deepEqual(snapshot, a); // Float32Arrays compared element by element, spec and elites included
  const bytesA = snapshotArrays(a).map((x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  const bytesRead = snapshotArrays(snapshot).map((x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  assert.deepEqual(bytesRead, bytesA, 'bit-exact');
  assert.deepEqual(store.load(2).snapshot, b);

  const weightsFile = join(saved1.dir, 'weights.bin');
  const expectedBytes = bytesA.reduce((n, x) => n + x.length, 0);
  assert.equal(statSync(weightsFile).size, expectedBytes);
  assert.deepEqual(readFileSync(weightsFile), Buffer.concat(bytesA), 'arrays concatenated in snapshotArrays order (little-endian host)');
  assert.equal(meta.weights.sha256, createHash('sha256').update(Buffer.concat(bytesA)).digest('hex'));
  assert.equal(meta.weights.bytes, expectedBytes);
  assert.equal(meta.version, 1);
  assert.equal(meta.accepted, true);
  assert.deepEqual(meta.spec.state_names, cartpole.stateNames);
  assert.deepEqual(meta.shapes.layer_widths, [6, 8, 6, 8]);
  assert.deepEqual(meta.elites, [2, 0]);
  assert.deepEqual(meta.data, info(true).data);
  assert.equal(meta.validation.score, 0.4);
  assert.equal(meta.training.stopped_by, 'patience');
  assert.ok(Number.isFinite(Date.parse(meta.created)));

  const listed = store.list(cartpole);
  assert.deepEqual(listed.map((v) => [v.version, v.meta?.accepted, v.problem]), [
    [1, true, undefined],
    [2, false, undefined],
  ]);
  // The newest *accepted* version is preferred: v2 lost validation.
  const log = recordingLog();
  assert.equal(store.loadPreferred(cartpole, log)?.version, 1);
});

test('a non-finite score is stored as null, and the version still loads', () => {
  const store = new ModelStore(freshDir());
  store.save(randomSnapshot(cartpole, 3), info(false, NaN));
  assert.equal(store.load(1).meta.validation.score, null);
});

test('a leftover temp folder (a crash mid-save) is ignored and does not take a version number', () => {
  const store = new ModelStore(freshDir());
  store.save(randomSnapshot(cartpole, 1), info(true));
  const temp = join(store.dir, '.tmp-999-deadbeef');
  mkdirSync(temp);
  writeFileSync(join(temp, 'weights.bin'), Buffer.alloc(10));
  assert.deepEqual(store.versions(), [1]);
  assert.equal(store.list().length, 1);
  assert.equal(store.save(randomSnapshot(cartpole, 2), info(true)).version, 2);
  assert.equal(store.loadPreferred(cartpole, recordingLog())?.version, 2);
  assert.deepEqual(readdirSync(store.dir).filter((n) => n.startsWith('.tmp-')), ['.tmp-999-deadbeef'], 'save cleans only its own temp folder');
});

/** Each way a version goes bad: what is done to v2's files, and what load must say. */
const damages: { name: string; file: 'weights.bin' | 'model.json'; code: string; reason: RegExp; damage: (dir: string) => void }[] = [
  { name: 'truncated weights.bin', file: 'weights.bin', code: 'MODEL_CORRUPT', reason: /truncated: \d+ of \d+ bytes/, damage: (d) => truncateSync(join(d, 'weights.bin'), 100) },
  {
    name: 'one flipped byte in weights.bin',
    file: 'weights.bin',
    code: 'MODEL_CORRUPT',
    reason: /corrupt: its sha256/,
    damage: (d) => {
      const bytes = readFileSync(join(d, 'weights.bin'));
      bytes[37]! ^= 0x40;
      writeFileSync(join(d, 'weights.bin'), bytes);
    },
  },
  { name: 'model.json not JSON', file: 'model.json', code: 'MODEL_CORRUPT', reason: /not valid JSON/, damage: (d) => writeFileSync(join(d, 'model.json'), '{"format": "mpcd-resid') },
  {
    name: 'model.json missing a field',
    file: 'model.json',
    code: 'MODEL_CORRUPT',
    reason: /missing or wrong field\(s\): weights\.sha256/,
    damage: (d) => {
      const meta = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8')) as { weights: { sha256?: string } };
      delete meta.weights.sha256;
      writeFileSync(join(d, 'model.json'), JSON.stringify(meta));
    },
  },
  { name: 'weights.bin missing', file: 'weights.bin', code: 'MODEL_MISSING', reason: /missing/, damage: (d) => unlinkSync(join(d, 'weights.bin')) },
  { name: 'model.json missing', file: 'model.json', code: 'MODEL_MISSING', reason: /missing/, damage: (d) => unlinkSync(join(d, 'model.json')) },
];

for (const d of damages) {
  test(`${d.name}: load names the file and the reason; the previous accepted version is used instead`, () => {
    const store = new ModelStore(freshDir());
    const good = randomSnapshot(cartpole, 10);
    store.save(good, info(true));
    const bad = store.save(randomSnapshot(cartpole, 11), info(true));
    d.damage(bad.dir);
    const file = join(bad.dir, d.file);
    assertLoadFails(store, 2, d.code, file, d.reason);

    const log = recordingLog();
    const preferred = store.loadPreferred(cartpole, log);
    assert.equal(preferred?.version, 1);
    assert.deepEqual(preferred?.snapshot, good);
    const warning = log.records.find((r) => r.level === 'warn');
    assert.equal(warning?.obj['version'], 2);
    assert.equal(warning?.obj['file'], file);
    assert.match(String(warning?.obj['reason']), d.reason);

    const listed = store.list();
    assert.equal(listed[0]!.problem, undefined);
    assert.ok(listed[1]!.problem?.startsWith(file), `v2 listed with its problem: ${listed[1]!.problem}`);
    assert.match(listed[1]!.problem!, d.reason);
  });
}

test("another robot's model is refused by name, and an older version of this robot is used", () => {
  const store = new ModelStore(freshDir());
  store.save(randomSnapshot(cartpole, 1), info(true));
  store.save(randomSnapshot(pendulum, 2), info(true));
  const file = join(store.dir, 'v000002', 'model.json');
  assertLoadFails(store, 2, 'MODEL_MISMATCH', file, /trained for states \[theta, theta_dot\].*config's model is states \[x, theta, x_dot, theta_dot\]/, cartpole);
  assert.doesNotThrow(() => store.load(2), 'without an expected spec it loads');
  assertLoadFails(store, 1, 'MODEL_MISMATCH', join(store.dir, 'v000001', 'model.json'), /hidden \[8, 6\], 3 members.*hidden \[16\]/, { ...cartpole, hidden: [16] });
  const log = recordingLog();
  assert.equal(store.loadPreferred(cartpole, log)?.version, 1);
  assert.equal(log.records.find((r) => r.level === 'warn')?.obj['code'], 'MODEL_MISMATCH');
});

test('no good version: loadPreferred returns undefined (the analytic model) and never throws', () => {
  const store = new ModelStore(freshDir());
  assert.equal(store.loadPreferred(cartpole, recordingLog()), undefined, 'no store folder at all');
  const v1 = store.save(randomSnapshot(cartpole, 1), info(true));
  store.save(randomSnapshot(cartpole, 2), info(false)); // intact, but never accepted
  truncateSync(join(v1.dir, 'weights.bin'), 0);
  const log = recordingLog();
  assert.equal(store.loadPreferred(cartpole, log), undefined);
  assert.deepEqual(log.records.map((r) => r.level), ['warn', 'info']);
  assert.equal(log.records[0]!.obj['file'], join(v1.dir, 'weights.bin'));
});

test('use pins a version (rollback) after checking it loads; unpin returns to the newest accepted', () => {
  const store = new ModelStore(freshDir());
  for (let i = 1; i <= 3; i++) store.save(randomSnapshot(cartpole, i), info(true));
  const log = recordingLog();
  assert.equal(store.loadPreferred(cartpole, log)?.version, 3);

  assert.equal(store.use(2, cartpole).version, 2);
  assert.equal(store.pinnedVersion(), 2);
  assert.equal(store.loadPreferred(cartpole, log)?.version, 2);
  assert.equal(new ModelStore(store.dir).loadPreferred(cartpole, log)?.version, 2, 'the pin is on disk');

  // A version that does not load is never pinned.
  assert.throws(() => store.use(9), (e: unknown) => e instanceof MpcdError && e.code === 'MODEL_MISSING' && e.message.includes('v000009'));
  truncateSync(join(store.dir, 'v000003', 'weights.bin'), 8);
  assert.throws(() => store.use(3), (e: unknown) => e instanceof MpcdError && e.code === 'MODEL_CORRUPT');
  assert.equal(store.pinnedVersion(), 2);

  // The pinned version going bad rolls back further, never forward past the pin.
  truncateSync(join(store.dir, 'v000002', 'weights.bin'), 8);
  assert.equal(store.loadPreferred(cartpole, log)?.version, 1);

  assert.equal(store.unpin(), 2);
  assert.equal(store.pinnedVersion(), undefined);
  assert.equal(existsSync(join(store.dir, 'pinned.json')), false);
  assert.equal(store.loadPreferred(cartpole, log)?.version, 1, 'v3 and v2 are damaged: v1 is the newest good one');
  assert.equal(store.unpin(), undefined);
});

test('an unreadable pin file is ignored with a warning', () => {
  const store = new ModelStore(freshDir());
  store.save(randomSnapshot(cartpole, 1), info(true));
  writeFileSync(join(store.dir, 'pinned.json'), 'garbage');
  const log = recordingLog();
  assert.equal(store.loadPreferred(cartpole, log)?.version, 1);
  assert.ok(log.records.some((r) => r.level === 'warn' && r.obj['file'] === join(store.dir, 'pinned.json')));
});

test('resolveModelDir: --model-dir, else learning.model_dir, else models; relative to the working directory', () => {
  const learning = learningSchema.parse({ model_dir: 'robot-models' });
  assert.equal(resolveModelDir({ learning }, '/tmp/x'), '/tmp/x');
  assert.equal(resolveModelDir({ learning }), join(process.cwd(), 'robot-models'));
  assert.equal(resolveModelDir(undefined), join(process.cwd(), 'models'));
});

test('a version saved with a terminal value loads it back bit-identical; one without has none', () => {
  const store = new ModelStore(freshDir());
  const value = testValueSnapshot(3, [7, 5], undefined, undefined, 3);
  const saved = store.save(randomSnapshot(cartpole, 1), info(true), value);
  store.save(randomSnapshot(cartpole, 2), info(true));
  const { meta, value: loaded } = store.load(1, cartpole);
  assert.deepEqual(loaded, value);
  const bytes = (arrays: Float32Array[]) => Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  assert.deepEqual(bytes(valueArrays(loaded!)), bytes(valueArrays(value)), 'bit-exact');
  assert.deepEqual(readFileSync(join(saved.dir, 'value.bin')), bytes(valueArrays(value)), 'valueArrays order (little-endian host)');
  assert.deepEqual(meta.value?.layer_widths, [5, 7, 5, 1]);
  assert.equal(meta.value?.members, 3);
  assert.equal(meta.value?.discount, value.discount);
  assert.equal(store.load(2).value, undefined);
  assert.equal(store.load(2).meta.value, undefined);
  assert.deepEqual(store.loadPreferred(cartpole, recordingLog())?.value, undefined, 'v2, the newest, has no value');
});

test('one flipped byte in value.bin: load throws MODEL_CORRUPT naming value.bin, and loadPreferred falls back to the older version and its value', () => {
  const store = new ModelStore(freshDir());
  const good = testValueSnapshot(4, [6]);
  store.save(randomSnapshot(cartpole, 1), info(true), good);
  const bad = store.save(randomSnapshot(cartpole, 2), info(true), testValueSnapshot(5, [6]));
  const file = join(bad.dir, 'value.bin');
  const bytes = readFileSync(file);
  bytes[29]! ^= 0x08;
  writeFileSync(file, bytes);
  assertLoadFails(store, 2, 'MODEL_CORRUPT', file, /corrupt: its sha256/);

  const log = recordingLog();
  const preferred = store.loadPreferred(cartpole, log);
  assert.equal(preferred?.version, 1);
  assert.deepEqual(preferred?.value, good);
  const warning = log.records.find((r) => r.level === 'warn');
  assert.equal(warning?.obj['version'], 2);
  assert.equal(warning?.obj['file'], file);
});
