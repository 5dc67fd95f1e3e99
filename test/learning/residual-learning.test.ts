import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import type { Config } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';
import { ModelStore, versionName } from '../../src/learning/model-store.js';
import { ResidualLearning } from '../../src/learning/residual-learning.js';
import { residualSpecForConfig } from '../../src/learning/residual-spec-for-config.js';
import { buildAnalyticModel } from '../../src/models/build-model.js';
import { HybridModel } from '../../src/models/hybrid-model.js';
import { randomSnapshot } from '../../src/models/residual/random-snapshot.js';
import { capturingLogger, smallLearningConfig, type LogRecord, sampleSaveInfo } from './learning-config.js';

const tmp = mkdtempSync(join(tmpdir(), 'mpcd-residual-learning-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;

const config: Config = smallLearningConfig({ enabled: false });
const spec = residualSpecForConfig(config, buildAnalyticModel(config, 1))!;

const info = sampleSaveInfo;

/** A store holding `count` good versions for the config's spec. */
function storeWith(count: number): ModelStore {
  const store = new ModelStore(join(tmp, `store-${++dirs}`));
  for (let v = 1; v <= count; v++) store.save(randomSnapshot(spec, new Rng(v), 0.05), info);
  return store;
}

const weightsOf = (store: ModelStore, version: number) => join(store.dir, versionName(version), 'weights.bin');

/** Flips one bit in the middle of a version's weights.bin: same size, wrong sha256. */
function flipByte(store: ModelStore, version: number): string {
  const path = weightsOf(store, version);
  const bytes = readFileSync(path);
  bytes[bytes.length >> 1]! ^= 0x10;
  writeFileSync(path, bytes);
  return path;
}

const warnings = (records: LogRecord[]) => records.filter((r) => r.level === 40);

test('a corrupt newest version is logged with its file and reason, and the daemon starts on the previous good one', async () => {
  const store = storeWith(2);
  const corrupt = flipByte(store, 2);
  const { log, records } = capturingLogger();
  const model = new HybridModel(buildAnalyticModel(config, 64));
  const learning = await ResidualLearning.start(config, model, store.dir, log);
  try {
    assert.equal(learning.startVersion, 1);
    assert.equal(learning.version, 1);
    assert.equal(model.version, 1);
    assert.notEqual(model.residual, undefined);
    const warned = warnings(records);
    assert.equal(warned.length, 1, JSON.stringify(records));
    assert.equal(warned[0]!['file'], corrupt);
    assert.equal(warned[0]!['version'], 2);
    assert.match(String(warned[0]!['reason']), /sha256/);
    assert.equal(warned[0]!['code'], 'MODEL_CORRUPT');
    assert.ok(records.some((r) => r.msg === 'residual model loaded' && r['version'] === 1));
  } finally {
    await learning.close();
  }
});

test('a truncated weights.bin names the file and says truncated', async () => {
  const store = storeWith(2);
  const path = weightsOf(store, 2);
  writeFileSync(path, readFileSync(path).subarray(0, 100));
  const { log, records } = capturingLogger();
  const model = new HybridModel(buildAnalyticModel(config, 64));
  const learning = await ResidualLearning.start(config, model, store.dir, log);
  try {
    assert.equal(model.version, 1);
    const warned = warnings(records);
    assert.equal(warned.length, 1);
    assert.equal(warned[0]!['file'], path);
    assert.match(String(warned[0]!['reason']), /truncated: 100 of \d+ bytes/);
  } finally {
    await learning.close();
  }
});

test('with only corrupt versions it starts on the analytic model (version 0), logs each, and does not throw', async () => {
  const store = storeWith(2);
  const corrupt = [flipByte(store, 1), flipByte(store, 2)];
  const { log, records } = capturingLogger();
  const model = new HybridModel(buildAnalyticModel(config, 64));
  const learning = await ResidualLearning.start(smallLearningConfig({ enabled: true }), model, store.dir, log);
  try {
    assert.equal(learning.startVersion, 0);
    assert.equal(model.version, 0);
    assert.equal(model.residual, undefined);
    assert.deepEqual(
      warnings(records).map((r) => r['file']),
      [corrupt[1], corrupt[0]],
      'newest first, each with its file',
    );
    assert.equal(learning.refitting, false);
  } finally {
    await learning.close();
  }
});
