import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { OpByOpMppi } from '../../src/cli/bench-op-by-op.js';
import { benchState, residualMppiConfig } from '../../src/cli/bench-workloads.js';
import type { Config } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';
import { buildTaskCost } from '../../src/costs/build-task-cost.js';
import { buildAnalyticModel, buildModel } from '../../src/models/build-model.js';
import { HybridModel } from '../../src/models/hybrid-model.js';
import type { EnsembleSnapshot } from '../../src/models/residual/ensemble-snapshot.js';
import { randomSnapshot } from '../../src/models/residual/random-snapshot.js';
import { ResidualPredictor } from '../../src/models/residual/residual-predictor.js';
import { selectTfBackend, tf } from '../../src/models/residual/tf-backend.js';
import { residualSpecForConfig } from '../../src/learning/residual-spec-for-config.js';
import { RolloutEngine } from '../../src/planning/rollout.js';

const root = join(import.meta.dirname, '..', '..', '..');
const main = join(root, 'dist', 'src', 'cli', 'main.js');
const K = 64; // not a multiple of the 5 members: the last block is shorter
const H = 10;
const config = residualMppiConfig(K, H);

before(async () => {
  await selectTfBackend('auto');
});

/** W1's ensemble, as the bench seeds it. */
function w1Snapshot(c: Config): EnsembleSnapshot {
  const spec = residualSpecForConfig(c, buildAnalyticModel(c, 1))!;
  return randomSnapshot(spec, new Rng(c.seed));
}

/**
 * An ensemble whose residual is as large as the dynamics and whose normalizers are not the
 * identity, so a wrong fold, member split or feature order moves the costs far past tolerance.
 */
function strongSnapshot(c: Config): EnsembleSnapshot {
  const base = w1Snapshot(c);
  const strong = randomSnapshot(base.spec, new Rng(11), 1);
  const rng = new Rng(12);
  const around = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
  const d = strong.input.mean.length;
  const nx = strong.target.mean.length;
  return {
    ...strong,
    input: { mean: around(d, -0.5, 0.5), std: around(d, 0.5, 2) },
    target: { mean: around(nx, -0.02, 0.02), std: around(nx, 0.01, 0.05) },
  };
}

/** Seeded action sequences [H, K, nu] inside the bounds [-1, 1]. */
function actionSequences(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: H * K }, () => 2 * rng.uniform() - 1);
}

/** The planner's rollout costs [K]: RolloutEngine over the hybrid model with this ensemble (or none). */
function engineCosts(snapshot: EnsembleSnapshot | undefined, actions: Float32Array): Float32Array {
  const model = buildModel(config, K);
  assert.ok(model instanceof HybridModel);
  if (snapshot !== undefined) model.setResidual(new ResidualPredictor(snapshot, K), 1);
  const engine = new RolloutEngine(model, buildTaskCost(config, model), K, H, config.control.period, Float32Array.from(actions));
  const costs = new Float32Array(K);
  engine.evaluate(benchState, K, costs);
  model.setResidual(undefined, 0);
  return costs;
}

function opByOpCosts(snapshot: EnsembleSnapshot, actions: Float32Array): Float32Array {
  const baseline = new OpByOpMppi(config, snapshot, new Rng(1));
  const t = tf.tensor3d(actions, [H, K, 1]);
  const costs = baseline.rolloutCosts(benchState, t);
  const out = costs.dataSync() as Float32Array;
  costs.dispose();
  t.dispose();
  baseline.dispose();
  return out;
}

/** Largest |a - b| / max(1, |b|). */
function worstRelativeError(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let k = 0; k < b.length; k++) worst = Math.max(worst, Math.abs(a[k]! - b[k]!) / Math.max(1, Math.abs(b[k]!)));
  return worst;
}

test('op by op computes the rollout engine costs for the same action sequences (W1 ensemble)', () => {
  const snapshot = w1Snapshot(config);
  const actions = actionSequences(3);
  const expected = engineCosts(snapshot, actions);
  const got = opByOpCosts(snapshot, actions);
  assert.equal(got.length, K);
  assert.ok(worstRelativeError(got, expected) < 1e-5, `worst relative error ${worstRelativeError(got, expected)}`);
});

test('op by op matches the rollout engine with a strong residual and non-identity normalizers', () => {
  const snapshot = strongSnapshot(config);
  const actions = actionSequences(4);
  const expected = engineCosts(snapshot, actions);
  const got = opByOpCosts(snapshot, actions);
  assert.ok(worstRelativeError(got, expected) < 1e-5, `worst relative error ${worstRelativeError(got, expected)}`);
  // The comparison can tell: without the residual the costs are far from these.
  assert.ok(worstRelativeError(engineCosts(undefined, actions), expected) > 1e-2);
});

test('an op-by-op tick keeps the plan inside the bounds and leaks no tensors', () => {
  const baseline = new OpByOpMppi(config, w1Snapshot(config), new Rng(5));
  const before = tf.memory().numTensors;
  const action = new Float32Array(1);
  for (let i = 0; i < 3; i++) {
    baseline.advance(1);
    const r = baseline.optimize(benchState);
    assert.ok(Number.isFinite(r.bestCost));
    baseline.action(action);
    assert.ok(action[0]! >= -1 && action[0]! <= 1);
  }
  assert.equal(tf.memory().numTensors, before);
  baseline.dispose();
});

test('the op-by-op baseline refuses a task it does not write out', () => {
  const smoothed = { ...config, planner: { ...config.planner, noise_smoothing: 0.5 } } as Config;
  assert.throws(() => new OpByOpMppi(smoothed, w1Snapshot(config), new Rng(1)), /noise smoothing/);
});

function bench(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, 'bench', ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const fields = ['description', 'planner', 'samples', 'horizon', 'iterations', 'warmup', 'median_ms', 'p99_ms', 'max_ms', 'mean_ms', 'rollout_steps', 'rollout_steps_per_s'];

test('bench --json prints one JSON object keyed by workload as the last stdout line', () => {
  const r = bench('--iterations', '3', '--warmup', '1', '--only', 'W0', '--json');
  assert.equal(r.code, 0, r.stderr);
  const results = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(results), ['W0']);
  const w0 = results.W0!;
  for (const f of fields) assert.ok(f in w0, `W0 has ${f}`);
  assert.equal(w0.iterations, 3);
  assert.equal(w0.warmup, 1);
  assert.equal(w0.rollout_steps, 1024 * 30);
  assert.ok((w0.max_ms as number) >= (w0.median_ms as number));
  assert.equal(w0.mlp_mflop, undefined);
});

test('bench --only W1 runs the op-by-op baseline after W1 and reports the ratio of medians', () => {
  const r = bench('--iterations', '2', '--warmup', '0', '--only', 'W1', '--json');
  assert.equal(r.code, 0, r.stderr);
  const results = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, Record<string, number>>;
  assert.deepEqual(Object.keys(results), ['W1', 'W1-op-by-op']);
  const w1 = results.W1!;
  const base = results['W1-op-by-op']!;
  for (const f of [...fields, 'mlp_mflop', 'mlp_gflop_per_s', 'speedup_vs_op_by_op']) assert.ok(f in w1, `W1 has ${f}`);
  assert.equal(base.iterations, 2);
  assert.equal(base.mlp_mflop, w1.mlp_mflop);
  assert.ok(Math.abs(w1.speedup_vs_op_by_op! - base.median_ms! / w1.median_ms!) < 0.01 * w1.speedup_vs_op_by_op! + 0.01);
});

test('bench --no-baseline skips the op-by-op line; an unknown name is an error', () => {
  const r = bench('--iterations', '1', '--warmup', '0', '--only', 'W0,W1', '--no-baseline', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(Object.keys(JSON.parse(r.stdout.trim().split('\n').at(-1)!) as object), ['W0', 'W1']);
  const bad = bench('--only', 'W9');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /W9.*W0, W0-rigid-body, W1, W2, W3, W4, W1-op-by-op/);
});
