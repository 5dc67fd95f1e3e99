import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';
import { LiveParamValues } from '../../src/costs/task-params.js';
import { GoalSchedule } from '../../src/loop/goal-schedule.js';

function config(goals: unknown) {
  return configSchema.shape.scenario.parse({ episode_seconds: 10, ...(goals === undefined ? {} : { goals }) });
}

const task = {
  params: {
    gain: 2,
    tx: { default: 0.5, bounds: [-1, 1] as [number, number], live: true },
    tz: { default: 0.1, live: true },
  },
  cost: [],
  success: { expr: '1', hold_seconds: 0.5 },
  points: {},
};

test('goals are drawn per segment inside their ranges and take effect from the first step of their segment', () => {
  const live = new LiveParamValues(task);
  const c = { scenario: config({ every_seconds: 2, params: { tx: [0.2, 0.8] } }), control: { period: 0.1, action_bounds: {} }, task };
  const schedule = new GoalSchedule(c, live, 100);
  assert.equal(schedule.count, 5);
  assert.equal(schedule.stepsPerGoal, 20);
  const goals = schedule.start(new Rng(1));
  assert.equal(goals.length, 5);
  for (const g of goals) {
    assert.ok(g.tx! >= 0.2 && g.tx! <= 0.8, `tx ${g.tx}`);
    assert.equal(g.tz, 0.1, 'a live param the goals do not name keeps its default');
  }
  assert.equal(live.get('tx'), goals[0]!.tx);
  for (let i = 0; i < 19; i++) assert.equal(schedule.afterStep(i), -1);
  assert.equal(schedule.afterStep(19), 1, 'the second goal starts at step 20');
  assert.equal(live.get('tx'), goals[1]!.tx);
  assert.equal(schedule.goalOf(19), 0);
  assert.equal(schedule.goalOf(20), 1);
  // Success windows: the last 0.5 s (5 steps) of each 2 s goal.
  assert.equal(schedule.inSuccessWindow(14), false);
  assert.equal(schedule.inSuccessWindow(15), true);
  assert.equal(schedule.inSuccessWindow(19), true);
  assert.equal(schedule.inSuccessWindow(20), false);
  assert.equal(schedule.afterStep(99), -1, 'no goal after the last');
});

test('an episode without goals is one segment at the defaults, judged at its end', () => {
  const live = new LiveParamValues(task);
  live.set('tx', 0.9);
  const c = { scenario: config(undefined), control: { period: 0.1, action_bounds: {} }, task };
  const schedule = new GoalSchedule(c, live, 100);
  assert.equal(schedule.count, 1);
  schedule.start(new Rng(1));
  assert.equal(live.get('tx'), 0.9, 'without scenario goals a goal set from outside holds');
  assert.equal(schedule.inSuccessWindow(94), false);
  assert.equal(schedule.inSuccessWindow(95), true);
  assert.equal(schedule.inSuccessWindow(100), true, 'the final observing tick belongs to the last goal');
});

test('live params refuse values outside their bounds, NaN and unknown names, and keep the last valid value', () => {
  const live = new LiveParamValues(task);
  assert.match(live.set('tx', 1.5) ?? '', /outside its bounds \[-1, 1\]/);
  assert.match(live.set('tx', Number.NaN) ?? '', /finite number/);
  assert.match(live.set('gain', 3) ?? '', /not a live param.*live: tx, tz/);
  assert.equal(live.get('tx'), 0.5);
  assert.equal(live.set('tx', -0.25), undefined);
  assert.equal(live.get('tx'), -0.25);
});
