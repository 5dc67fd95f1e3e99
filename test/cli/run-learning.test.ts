import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';

import { parseConfigText } from '../../src/config/load-config.js';
import { Rng } from '../../src/core/rng.js';
import { ModelStore, versionName } from '../../src/learning/model-store.js';
import { residualSpecForConfig } from '../../src/learning/residual-spec-for-config.js';
import { buildAnalyticModel } from '../../src/models/build-model.js';
import { randomSnapshot } from '../../src/models/residual/random-snapshot.js';
import { repoRoot, sampleSaveInfo, smallLearningYaml } from '../learning/learning-config.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'mpcd-run-learning-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** The mismatch example, made quick: a small planner, one short episode, no refits; the MJCF by absolute path. */
const configText = smallLearningYaml({ enabled: false }, (doc) => {
  Object.assign(doc['planner']!, { samples: 128, horizon: 20 });
  doc['scenario']!['episode_seconds'] = 1;
  doc['plant']!['mjcf'] = join(repoRoot, 'sim', 'models', 'cartpole-mismatch.xml');
});
const configPath = join(tmp, 'cartpole-mismatch-quick.yaml');
writeFileSync(configPath, configText);
const config = parseConfigText(configText, configPath);
const spec = residualSpecForConfig(config, buildAnalyticModel(config, 1))!;

const info = sampleSaveInfo;

/** A store of `good` good versions and then one whose weights.bin is cut short; returns the cut file. */
function storeWithTruncatedNewest(name: string, good: number): { dir: string; corrupt: string } {
  const store = new ModelStore(join(tmp, name));
  for (let v = 1; v <= good + 1; v++) store.save(randomSnapshot(spec, new Rng(v), 0.01), info);
  const corrupt = join(store.dir, versionName(good + 1), 'weights.bin');
  writeFileSync(corrupt, readFileSync(corrupt).subarray(0, 64));
  return { dir: store.dir, corrupt };
}

async function mpcdRun(modelDir: string): Promise<{ summary: { model: { start_version: number; final_version: number } | null; episodes: unknown[] }; logs: Record<string, unknown>[]; stderr: string }> {
  // execFile rejects on a non-zero exit: awaiting it asserts exit code 0.
  const { stdout, stderr } = await run(process.execPath, [main, 'run', configPath, '--episodes', '1', '--json', '--no-log', '--model-dir', modelDir], {
    cwd: tmp,
    env: { ...process.env, MPCD_LOG_LEVEL: 'info' },
    maxBuffer: 16 << 20,
    timeout: 120_000,
  });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  const logs = stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { summary: JSON.parse(last) as never, logs, stderr };
}

// One process run (a few seconds); the analytic-only case (no good version) is covered in-process by
// test/learning/residual-learning.test.ts.
test('mpcd run with a truncated newest model version: exits 0, starts on the good version before it, and names the file and the reason on stderr', async () => {
  const { dir, corrupt } = storeWithTruncatedNewest('one-good', 1);
  const { summary, logs, stderr } = await mpcdRun(dir);
  assert.equal(summary.episodes.length, 1);
  assert.equal(summary.model?.start_version, 1);
  assert.equal(summary.model?.final_version, 1, 'learning is off: no refit');
  const warned = logs.find((r) => r['file'] === corrupt);
  assert.ok(warned !== undefined, `stderr names ${corrupt}:\n${stderr}`);
  assert.equal(warned['level'], 40, 'a warning');
  assert.equal(warned['version'], 2);
  assert.match(String(warned['reason']), /^truncated: 64 of \d+ bytes$/);
});
