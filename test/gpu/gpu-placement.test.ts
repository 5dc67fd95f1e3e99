import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { buildTaskCost } from '../../src/costs/build-task-cost.js';
import { workloads } from '../../src/cli/bench-workloads.js';
import { residualSpecForConfig } from '../../src/learning/residual-spec-for-config.js';
import { buildModel } from '../../src/models/build-model.js';
import { HybridModel } from '../../src/models/hybrid-model.js';
import { randomSnapshot } from '../../src/models/residual/random-snapshot.js';
import { ResidualPredictor } from '../../src/models/residual/residual-predictor.js';
import { buildRolloutEngine } from '../../src/planning/build-rollout-engine.js';
import { ParallelRolloutEngine } from '../../src/planning/parallel-rollout.js';
import { GpuRollout } from '../../src/gpu/gpu-rollout.js';

/*
 * The GPU inside the planner's engine: populations of at least gpu_min_samples go to the GPU
 * worker, smaller ones to the cores, and both price samples as the single-threaded engine does
 * (float32 tolerance: see gpu-rollout.test.ts). A refit's new residual reaches the GPU too.
 */
const REQUIRE_WEBGPU = process.env.MPCD_REQUIRE_WEBGPU === '1';
const K = 2048;
const MIN = 1024;
const x0 = Float32Array.from([0.05, 3.0, 0, 0.1]);

async function gpuMissing(): Promise<string | undefined> {
  const made = await GpuRollout.create((await workloads()).find((w) => w.name === 'W0')!.config, 4);
  if (made instanceof GpuRollout) {
    made.dispose();
    return undefined;
  }
  return made.unsupported;
}

function maxRelDiff(a: Float32Array, b: Float32Array, n: number): number {
  let worst = 0;
  for (let k = 0; k < n; k++) worst = Math.max(worst, Math.abs(a[k]! - b[k]!) / (1 + Math.abs(b[k]!)));
  return worst;
}

test('planner.gpu: large populations are priced on the GPU, small ones on the cores, both as the single-threaded engine does; a new residual reaches the GPU', async (t) => {
  const missing = await gpuMissing();
  if (missing !== undefined) {
    if (REQUIRE_WEBGPU) assert.fail(`MPCD_REQUIRE_WEBGPU=1 but ${missing}`);
    t.skip(missing);
    return;
  }
  const c = (await workloads()).find((w) => w.name === 'W1')!.config;
  const model = buildModel(c, K) as HybridModel;
  const spec = residualSpecForConfig(c, model.analytic)!;
  model.setResidual(new ResidualPredictor(randomSnapshot(spec, new Rng(3)), K), 1);
  const cost = buildTaskCost(c, model);
  const engine = new ParallelRolloutEngine(c, model, cost, K, 2, { mode: 'on', minSamples: MIN });
  const reference = buildRolloutEngine(c, model, cost, K, engine.actions); // same actions buffer
  try {
    const rng = new Rng(1);
    for (let i = 0; i < engine.actions.length; i++) engine.actions[i] = Math.max(-1, Math.min(1, 0.6 * rng.normal()));
    const got = new Float32Array(K);
    const want = new Float32Array(K);
    for (const count of [K, MIN, MIN - 1, 777]) {
      engine.evaluate(x0, count, got);
      reference.evaluate(x0, count, want);
      assert.ok(maxRelDiff(got, want, count) < 1e-4, `count ${count}: ${maxRelDiff(got, want, count)}`);
    }
    assert.match(engine.gpuAdapter ?? '', /./, 'the GPU worker names its adapter');

    model.setResidual(new ResidualPredictor(randomSnapshot(spec, new Rng(4)), K), 2);
    const before = Float32Array.from(got);
    engine.evaluate(x0, K, got);
    reference.evaluate(x0, K, want);
    assert.ok(maxRelDiff(got, want, K) < 1e-4, 'after the swap the GPU prices with the new residual');
    assert.ok(maxRelDiff(got, before, 777) > 1e-3, 'and the new residual changes the costs');
  } finally {
    engine.dispose();
  }
});

test('planner.gpu auto: a config the GPU kernel cannot express stays on the cores and says why; gpu on refuses it', async () => {
  const c = structuredClone((await workloads()).find((w) => w.name === 'W1')!.config);
  c.model.residual!.uncertainty_weight = 0.5;
  const model = buildModel(c, K);
  const cost = buildTaskCost(c, model);
  const auto = new ParallelRolloutEngine(c, model, cost, K, 2, { mode: 'auto', minSamples: MIN });
  try {
    const costs = new Float32Array(K);
    auto.evaluate(x0, K, costs);
    assert.equal(auto.gpuAdapter, undefined);
    assert.match(auto.gpuUnavailable ?? '', /uncertainty/);
  } finally {
    auto.dispose();
  }
  const on = new ParallelRolloutEngine(c, model, cost, K, 2, { mode: 'on', minSamples: MIN });
  try {
    assert.throws(() => on.evaluate(x0, K, new Float32Array(K)), /planner\.gpu is on but no GPU rollout can run: .*uncertainty/);
  } finally {
    on.dispose();
  }
});
