import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BENCH_COST_EXPR, workloads } from '../../src/cli/bench-workloads.js';
import type { Config } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';
import { buildTaskCost } from '../../src/costs/build-task-cost.js';
import { GpuRollout } from '../../src/gpu/gpu-rollout.js';
import { buildModel } from '../../src/models/build-model.js';
import { buildRolloutEngine } from '../../src/planning/build-rollout-engine.js';
import { ParallelRolloutEngine } from '../../src/planning/parallel-rollout.js';

/*
 * A live param through the planner's engine: the GPU worker (and the CPU workers) read the
 * values the planner's thread writes into the TaskCost's LiveParamValues, so a goal changed
 * between two evaluations prices every sample with the new goal, as the single-threaded engine
 * does (float32 tolerance: see gpu-rollout.test.ts).
 */
const REQUIRE_WEBGPU = process.env.MPCD_REQUIRE_WEBGPU === '1';
const K = 2048;
const MIN = 1024;
const x0 = Float32Array.from([0.05, 3.0, 0, 0.1]);

function maxRelDiff(a: Float32Array, b: Float32Array, n: number): number {
  let worst = 0;
  for (let k = 0; k < n; k++) worst = Math.max(worst, Math.abs(a[k]! - b[k]!) / (1 + Math.abs(b[k]!)));
  return worst;
}

test('planner.gpu with a live goal: a change between evaluations reaches the GPU worker and the CPU workers', async (t) => {
  const base = (await workloads()).find((w) => w.name === 'W0')!.config;
  const probe = await GpuRollout.create(base, 4);
  if (!(probe instanceof GpuRollout)) {
    if (REQUIRE_WEBGPU) assert.fail(`MPCD_REQUIRE_WEBGPU=1 but ${probe.unsupported}`);
    t.skip(probe.unsupported);
    return;
  }
  probe.dispose();
  const c: Config = {
    ...base,
    task: {
      ...base.task,
      params: { x_goal: { default: 0.1, bounds: [-1, 1], live: true } },
      cost: [{ kind: 'expression', expr: `${BENCH_COST_EXPR} + 3*(x - x_goal)^2`, weight: 1, terminal_weight: 5 }],
    },
  };
  const model = buildModel(c, K);
  const cost = buildTaskCost(c, model);
  const engine = new ParallelRolloutEngine(c, model, cost, K, 2, { mode: 'on', minSamples: MIN });
  const reference = buildRolloutEngine(c, model, cost, K, engine.actions); // same actions, same live params
  try {
    const rng = new Rng(2);
    for (let i = 0; i < engine.actions.length; i++) engine.actions[i] = Math.max(-1, Math.min(1, 0.6 * rng.normal()));
    const got = new Float32Array(K);
    const want = new Float32Array(K);
    const before = new Float32Array(K);
    for (const count of [K, MIN - 1]) {
      cost.live.reset();
      engine.evaluate(x0, count, got);
      reference.evaluate(x0, count, want);
      assert.ok(maxRelDiff(got, want, count) < 1e-4, `count ${count}, default goal: ${maxRelDiff(got, want, count)}`);
      before.set(got);
      assert.equal(cost.live.set('x_goal', -0.6), undefined);
      engine.evaluate(x0, count, got);
      reference.evaluate(x0, count, want);
      assert.ok(maxRelDiff(got, want, count) < 1e-4, `count ${count}, new goal: ${maxRelDiff(got, want, count)}`);
      assert.ok(maxRelDiff(got, before, count) > 1e-3, `count ${count}: the new goal changes the costs`);
    }
    assert.match(engine.gpuAdapter ?? '', /./, 'the GPU worker priced the large population');
  } finally {
    engine.dispose();
  }
});
