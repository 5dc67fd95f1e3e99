import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mlpFlopPerSampleStep, samplesPerTick, workloads } from '../../src/cli/bench-workloads.js';
import { Rng } from '../../src/core/rng.js';
import { buildTaskCost } from '../../src/costs/build-task-cost.js';
import { buildAnalyticModel } from '../../src/models/build-model.js';
import type { DynamicsModel } from '../../src/models/dynamics.js';
import { residualSpecForConfig } from '../../src/learning/residual-spec-for-config.js';
import { plannerOn } from '../../src/planning/build-planner.js';
import { RolloutEngine } from '../../src/planning/rollout.js';

const byName = new Map((await workloads()).map((w) => [w.name, w]));

/** Passes steps through to a model and counts the samples stepped. */
class CountingModel implements DynamicsModel {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  readonly angular: readonly boolean[];
  readonly maxBatch: number;
  stepped = 0;
  constructor(private readonly inner: DynamicsModel) {
    this.stateNames = inner.stateNames;
    this.actionNames = inner.actionNames;
    this.angular = inner.angular;
    this.maxBatch = inner.maxBatch;
  }
  step(states: Float32Array, actions: Float32Array, out: Float32Array, count: number, dt: number): void {
    this.stepped += count;
    this.inner.step(states, actions, out, count, dt);
  }
}

test('the workloads are W0..W4 with W2 at 4096 samples, W3 on iCEM, W0-rigid-body and W4 on rigid-body models', () => {
  assert.deepEqual([...byName.keys()], ['W0', 'W0-rigid-body', 'W1', 'W2', 'W3', 'W4']);
  const generic = byName.get('W0-rigid-body')!.config;
  const w0 = byName.get('W0')!.config;
  assert.equal(generic.model.kind, 'rigid_body');
  assert.deepEqual({ ...generic.planner, noise_std: {} }, { ...w0.planner, noise_std: {} }, 'W0 and its generic twin plan alike');
  const w4 = byName.get('W4')!;
  assert.equal(w4.config.model.kind, 'rigid_body');
  assert.deepEqual([w4.config.planner.samples, w4.config.planner.horizon], [1024, 30]);
  assert.equal(w4.state?.length, 14);
  assert.equal(byName.get('W0')!.config.model.residual, undefined);
  assert.equal(byName.get('W2')!.config.planner.samples, 4096);
  const w3 = byName.get('W3')!.config.planner;
  assert.equal(w3.kind, 'cem');
  assert.equal(w3.iterations, 5);
});

test("samplesPerTick counts the shrinking iCEM populations Icem actually rolls out", () => {
  const c = byName.get('W3')!.config;
  const p = c.planner;
  assert.equal(p.kind, 'cem');
  if (p.kind !== 'cem') return;
  assert.equal(samplesPerTick(p), 1024 + 819 + 655 + 524 + 419);
  const model = new CountingModel(buildAnalyticModel(c, p.samples));
  const names = model.actionNames;
  const engine = new RolloutEngine(model, buildTaskCost(c, model), p.samples, p.horizon, c.control.period, new Float32Array(p.horizon * p.samples * names.length));
  const icem = plannerOn(c, engine, names, new Rng(1));
  icem.optimize(Float32Array.from([0, 3, 0, 0]));
  assert.equal(model.stepped, samplesPerTick(p) * p.horizon);
  assert.equal(samplesPerTick(byName.get('W2')!.config.planner), 4096);
});

test('MLP arithmetic per sample step: matmuls, biases and hidden ReLUs of 6 -> 64 -> 64 -> 4', () => {
  const c = byName.get('W1')!.config;
  const spec = residualSpecForConfig(c, buildAnalyticModel(c, 1))!;
  assert.equal(mlpFlopPerSampleStep(spec), 2 * 6 * 64 + 64 + 64 + (2 * 64 * 64 + 64 + 64) + (2 * 64 * 4 + 4));
});
