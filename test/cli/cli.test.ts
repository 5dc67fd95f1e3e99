import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const root = join(import.meta.dirname, '..', '..', '..');
const main = join(root, 'dist', 'src', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'mpcd-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function mpcd(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('run --json prints one JSON summary as the last stdout line', () => {
  const log = join(tmp, 'run.mcap');
  const r = mpcd('run', 'config/cartpole-swingup.yaml', '--episodes', '1', '--seed', '3', '--json', '--log', log);
  assert.equal(r.code, 0, r.stderr);
  const last = r.stdout.trim().split('\n').at(-1)!;
  const summary = JSON.parse(last) as {
    episodes: { steps: number; cost: number; success: boolean }[];
    latency_ms: { p50: number; p99: number; max: number };
    overruns: number;
    log: string;
    memory: { peak_rss_mb: number };
  };
  assert.equal(summary.episodes.length, 1);
  assert.equal(summary.episodes[0]!.steps, 300);
  assert.equal(summary.episodes[0]!.success, true);
  assert.ok(summary.latency_ms.p50 > 0 && summary.latency_ms.p99 >= summary.latency_ms.p50 && summary.latency_ms.max >= summary.latency_ms.p99);
  assert.equal(summary.overruns, 0);
  assert.equal(summary.log, log);
  assert.ok(summary.memory.peak_rss_mb > 0);
});

test('validate names every wrong field and exits non-zero', () => {
  const text = readFileSync(join(root, 'config', 'cartpole-swingup.yaml'), 'utf8')
    .replace('samples: 1024', 'samples: lots')
    .replace('period: 0.02', 'period: -1');
  const bad = join(tmp, 'bad.yaml');
  writeFileSync(bad, text);
  const r = mpcd('validate', bad);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /planner\.samples: expected number, found "lots"/);
  assert.match(r.stderr, /control\.period: .*found number -1/);
});

test('validate accepts the examples', () => {
  const r = mpcd('validate', 'config/cartpole-swingup.yaml', 'config/cartpole-swingup-cem.yaml', 'config/pendulum-swingup.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 3);
});

test('a bad flag is a usage error, not a crash', () => {
  const r = mpcd('run', 'config/cartpole-swingup.yaml', '--episodes', 'many');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--episodes expects a positive integer, found "many"/);
});

test('validate of a rigid-body config says what its file holds that the model does not represent; a file MuJoCo rejects is its message, not a stack trace', () => {
  const base = readFileSync(join(root, 'config', 'cartpole-rigid-body.yaml'), 'utf8');
  const fixtures = join(root, 'test', 'models', 'rigid-body');
  // The cart-pole's names on a file with a tendon and a contact pair would not fit: check the note on the unrepresented-parts arm with its own names.
  const arm = base
    .replace(/mjcf: .*/, `mjcf: ${join(fixtures, 'unrepresented-parts.xml')}`)
    .replaceAll(/\bu\b/g, 'elbow_motor')
    .replaceAll('x_dot', 'shoulder_dot')
    .replaceAll('theta_dot', 'elbow_dot')
    .replaceAll(/\bx\b/g, 'shoulder')
    .replaceAll(/\btheta\b/g, 'elbow')
    .replace(/^plant:\n(?: {2}.*\n)+/m, 'plant:\n  kind: mqtt\n  topic_prefix: test/arm\n  channels: [{ name: arm, fields: { shoulder: a, elbow: b, shoulder_dot: c, elbow_dot: d } }]\n');
  const armPath = join(tmp, 'arm.yaml');
  writeFileSync(armPath, arm);
  const ok = mpcd('validate', armPath);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /note: .*unrepresented-parts\.xml: the rigid-body model does not represent joint limits on elbow; tendon cable; 1 equality constraint; 1 contact pair/);

  const badXml = join(tmp, 'broken.xml');
  writeFileSync(badXml, '<mujoco>\n<worldbody>\n<body name="a">\n<joint type="hinge" axis="0 1"/>\n</body>\n</worldbody>\n</mujoco>\n');
  const badPath = join(tmp, 'broken.yaml');
  writeFileSync(badPath, base.replace(/mjcf: .*/, `mjcf: ${badXml}`));
  const bad = mpcd('validate', badPath);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /model\.mjcf: MuJoCo rejected .*broken\.xml: XML Error: attribute 'axis' does not have enough data Element 'joint', line 4/);
  assert.doesNotMatch(bad.stderr, /^\s+at /m);
});
