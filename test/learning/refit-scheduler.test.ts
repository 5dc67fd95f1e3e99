import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import type { Config } from '../../src/config/schema.js';
import { buildTaskCost } from '../../src/costs/build-task-cost.js';
import { ModelStore } from '../../src/learning/model-store.js';
import { RefitScheduler, type RefitTiming } from '../../src/learning/refit-scheduler.js';
import { ReplayBuffer } from '../../src/learning/replay-buffer.js';
import { predictionScore } from '../../src/learning/residual-dataset.js';
import type { Transition } from '../../src/log/transition-schema.js';
import { TransitionFlags } from '../../src/log/transition-schema.js';
import { TransitionRecorder } from '../../src/loop/transition-recorder.js';
import { buildAnalyticModel } from '../../src/models/build-model.js';
import { HybridModel } from '../../src/models/hybrid-model.js';
import { selectTfBackend } from '../../src/models/residual/tf-backend.js';
import { capturingLogger, smallLearningConfig } from './learning-config.js';
import { DT, NU, NX, nominalModel, plantTransitions, robotModel } from './mismatch-robot.js';

// The main thread builds predictors from the worker's snapshots.
await selectTfBackend('auto');

const tmp = mkdtempSync(join(tmpdir(), 'mpcd-refit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
const freshStore = () => join(tmp, `store-${++dirs}`);

/**
 * A scheduler over a fresh hybrid model, replay buffer and store, on a clock the test moves
 * (or, with `robotClock`, on the transitions' own times).
 */
function setup(config: Config, timing: RefitTiming = 'beside', robotClock = false) {
  const model = new HybridModel(buildAnalyticModel(config, 1024));
  const buffer = new ReplayBuffer(NX, NU, config.learning.buffer_capacity);
  const storeDir = freshStore();
  const { log, records } = capturingLogger();
  const clock = { ms: 0 };
  const scheduler = new RefitScheduler(config, model, buffer, storeDir, log, robotClock ? undefined : () => clock.ms, timing);
  const started = () => records.filter((r) => r.msg === 'refit started').length;
  return { model, buffer, store: new ModelStore(storeDir), scheduler, records, clock, started };
}

// Each test has its own worker, model and store: they run side by side.
describe('RefitScheduler', { concurrency: true }, () => {
  test('robot transitions trigger a refit after refit_every_transitions; the better candidate is stored, swapped in, and its version is what the recorder writes', async () => {
    const config = smallLearningConfig({ min_transitions: 100, refit_every_transitions: 300 });
    const { model, store, scheduler, started } = setup(config);
    try {
      const { transitions } = plantTransitions(robotModel(), 300, 21);
      for (const tr of transitions.slice(0, 299)) scheduler.onTransition(tr);
      assert.equal(scheduler.refitting, false, 'not due before refit_every_transitions');
      scheduler.onTransition(transitions[299]!);
      assert.equal(scheduler.refitting, true, 'due at refit_every_transitions');
      assert.equal(started(), 1);
      assert.equal(model.version, 0, 'the swap waits for the result');

      // The recorder reads the version right after each step is planned.
      const recorded: Transition[] = [];
      const recorder = new TransitionRecorder(buildTaskCost(config, model), (tr) => recorded.push(tr), 0, 0, () => model.version);
      const step = (i: number, action: number[] | undefined) =>
        recorder.onStep({ index: i, due: i * 20, state: Float32Array.from(transitions[i]!.state), stateStamp: i * DT, action: action && Float32Array.from(action), flags: 0, planMs: 1, dropped: 0 });
      step(0, transitions[0]!.action); // planned on the analytic model

      await scheduler.settle();
      assert.equal(scheduler.refitting, false);
      assert.equal(model.version, 1, 'the accepted candidate is swapped in');
      assert.notEqual(model.residual, undefined);
      assert.equal(scheduler.history.length, 1);
      const h = scheduler.history[0]!;
      assert.equal(h.version, 1);
      assert.equal(h.accepted, true);
      assert.ok(h.score < h.previous_score, `score ${h.score} < previous ${h.previous_score}`);
      assert.equal(h.rows, 300 - Math.floor(300 * config.learning.holdout_fraction), 'trained on all but the held-out rows');

      const listed = store.list();
      assert.equal(listed.length, 1);
      assert.equal(listed[0]!.version, 1);
      assert.equal(listed[0]!.problem, undefined);
      assert.equal(listed[0]!.meta?.accepted, true);
      assert.equal(listed[0]!.meta?.validation.previous_version, 0);
      assert.equal(listed[0]!.meta?.data.transitions, 300);

      step(1, transitions[1]!.action); // planned after the swap
      step(2, undefined);
      assert.deepEqual(
        recorded.map((r) => r.model_version),
        [0, 1],
        'each transition carries the version that planned its action',
      );

      // What was swapped in predicts unseen robot transitions better than the analytic model.
      const { rows } = plantTransitions(robotModel(), 200, 77);
      const nominal = nominalModel();
      const analyticScore = predictionScore(nominal, undefined, rows, 200, DT);
      const hybridScore = predictionScore(nominal, model.residual, rows, 200, DT);
      assert.ok(hybridScore < 0.7 * analyticScore, `hybrid ${hybridScore} vs analytic ${analyticScore}`);
    } finally {
      await scheduler.close();
    }
  });

  test('a candidate that is not better (data from the nominal model itself) is stored as not accepted and not swapped in', async () => {
    const config = smallLearningConfig({ min_transitions: 100, refit_every_transitions: 200 });
    const { model, store, scheduler, records } = setup(config);
    try {
      const { transitions } = plantTransitions(nominalModel(1), 200, 31);
      for (const tr of transitions) scheduler.onTransition(tr);
      assert.equal(scheduler.refitting, true);
      await scheduler.settle();
      assert.equal(scheduler.history.length, 1);
      const h = scheduler.history[0]!;
      assert.equal(h.accepted, false);
      assert.ok(!(h.score < h.previous_score), `score ${h.score}, previous ${h.previous_score}`);
      assert.equal(model.version, 0, 'the analytic model stays');
      assert.equal(model.residual, undefined);
      const listed = store.list();
      assert.equal(listed.length, 1, 'kept for inspection');
      assert.equal(listed[0]!.meta?.accepted, false);
      assert.ok(records.some((r) => r.msg.startsWith('refit kept out')));
    } finally {
      await scheduler.close();
    }
  });

  test('no refit starts before min_transitions clean transitions, and only one runs at a time', async () => {
    const config = smallLearningConfig({ min_transitions: 200, refit_every_transitions: 50 });
    const { model, buffer, store, scheduler, started } = setup(config);
    try {
      const { transitions } = plantTransitions(robotModel(), 400, 41);
      for (const tr of transitions.slice(0, 199)) scheduler.onTransition(tr);
      // Flagged transitions are not clean: they neither fill the buffer nor count.
      for (const tr of transitions.slice(0, 20)) scheduler.onTransition({ ...tr, flags: TransitionFlags.stale_state });
      assert.equal(buffer.size, 199);
      assert.equal(scheduler.refitting, false, '199 clean transitions: below min_transitions, though 50 are long past');
      assert.equal(started(), 0);
      scheduler.onTransition(transitions[199]!);
      assert.equal(scheduler.refitting, true, 'starts at min_transitions');
      for (const tr of transitions.slice(200)) scheduler.onTransition(tr); // 4 x refit_every_transitions more
      scheduler.start(); // an explicit start while one runs is ignored too
      assert.equal(started(), 1, 'one refit at a time');
      await scheduler.settle();
      assert.equal(scheduler.history.length, 1);
      assert.equal(store.list().length, 1);
      assert.equal(scheduler.history[0]!.rows, 200 - Math.floor(200 * config.learning.holdout_fraction), 'the refit saw the buffer as it was when it started');
      assert.equal(model.version, 1);
    } finally {
      await scheduler.close();
    }
  });

  test("lock-step 'pause': the transition that makes a refit due returns only once the refit is applied, so the next tick plans on the new model", async () => {
    const config = smallLearningConfig({ min_transitions: 100, refit_every_transitions: 300 });
    const { model, scheduler, started } = setup(config, 'pause');
    try {
      const { transitions } = plantTransitions(robotModel(), 301, 21);
      for (const tr of transitions.slice(0, 299)) scheduler.onTransition(tr);
      assert.equal(model.version, 0);
      scheduler.onTransition(transitions[299]!);
      assert.equal(started(), 1);
      assert.equal(scheduler.refitting, false, 'nothing left in flight');
      assert.equal(model.version, 1, 'swapped in before onTransition returned');
      assert.equal(scheduler.history.length, 1);
      scheduler.onTransition(transitions[300]!);
      assert.equal(started(), 1, 'the count starts again after the refit');
    } finally {
      await scheduler.close();
    }
  });

  test('by default refit_every_seconds counts robot seconds, read off the transitions, from the first one', async () => {
    const config = smallLearningConfig({ min_transitions: 100, refit_every_transitions: 10_000, refit_every_seconds: 3 });
    const { scheduler, started } = setup(config, 'beside', true);
    try {
      // Transitions 20 ms apart from t = 10 s: due at t >= 13 s, the 151st transition.
      const { transitions } = plantTransitions(robotModel(), 160, 52);
      const shifted = transitions.map((tr) => ({ ...tr, t: tr.t + 10 }));
      for (const tr of shifted.slice(0, 150)) scheduler.onTransition(tr);
      assert.equal(started(), 0, `not before 3 s of robot time (last t ${shifted[149]!.t})`);
      scheduler.onTransition(shifted[150]!);
      assert.equal(started(), 1, '3 s of robot time after the first transition');
      await scheduler.settle();
    } finally {
      await scheduler.close();
    }
  });

  test('warmUp starts and warms the worker before the control loop runs; the first refit then goes through it', async () => {
    const config = smallLearningConfig({ min_transitions: 100, refit_every_transitions: 150 });
    const { scheduler, records, model } = setup(config);
    try {
      assert.equal(scheduler.workerReady, false);
      await scheduler.warmUp();
      assert.equal(scheduler.workerReady, true, 'ready before any transition came');
      assert.equal(records.filter((r) => r.msg === 'refit worker ready').length, 1);
      const { transitions } = plantTransitions(robotModel(), 150, 61);
      for (const tr of transitions) scheduler.onTransition(tr);
      await scheduler.settle();
      assert.equal(scheduler.history.length, 1, 'the ready message did not stand in for the result');
      assert.equal(model.version, 1);
    } finally {
      await scheduler.close();
    }
  });

  test('refit_every_seconds on the injected clock starts a refit when too few transitions came for the count trigger', async () => {
    const config = smallLearningConfig({ min_transitions: 100, refit_every_transitions: 10_000, refit_every_seconds: 60 });
    const { scheduler, started, clock } = setup(config);
    try {
      const { transitions } = plantTransitions(robotModel(), 150, 51);
      for (const tr of transitions.slice(0, 120)) scheduler.onTransition(tr);
      assert.equal(started(), 0, 'at t = 0 nothing is due');
      clock.ms = 59_999;
      scheduler.onTransition(transitions[120]!);
      assert.equal(started(), 0, 'not before 60 s');
      clock.ms = 60_001;
      scheduler.onTransition(transitions[121]!);
      assert.equal(started(), 1, '60 s after the scheduler was made');
      await scheduler.settle();
    } finally {
      await scheduler.close();
    }
  });
});
