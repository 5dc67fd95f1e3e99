import assert from 'node:assert/strict';
import { test } from 'node:test';
import { map, of, timer, type SchedulerLike } from 'rxjs';
import { controlLoop, StepFlags, type PlanStage } from '../../src/loop/control-loop.js';
import { TransitionFlags } from '../../src/log/transition-schema.js';
import { pino } from 'pino';
import { MpcdError } from '../../src/core/errors.js';
import { virtualScheduler } from '../../src/loop/clock.js';
import { ActionFilter } from '../../src/safety/action-filter.js';
import { defaultSafetyConfig } from '../../src/safety/safety-config.js';
import { SafetySupervisor } from '../../src/safety/safety-supervisor.js';
import { constantPlan, harness, PERIOD_MS, PLANNED, sent, transitions } from './harness.js';
import { LinkFakePlant } from './link-fake-plant.js';

const SAFE = TransitionFlags.safe_action_sent;
const FAULTED = TransitionFlags.faulted;
const has = (flags: number, bit: number): boolean => (flags & bit) !== 0;

test('starts disarmed: the safe action every tick, no fault; arm() -> armed -> running on the next tick', () => {
  const h = harness({ steps: 6, config: { armOnStart: false }, safe: 0.1 });
  h.at(50, () => h.safety.arm());
  h.run();
  assert.deepEqual(sent(h), [0.1, 0.1, 0.1, PLANNED, PLANNED, PLANNED].map(Math.fround));
  assert.deepEqual(h.steps.map((s) => has(s.flags, SAFE)), [true, true, true, false, false, false, false]);
  assert.ok(h.steps.every((s) => !has(s.flags, FAULTED)));
  // arm() came between ticks 2 and 3: reported at tick 2; running on the first tick after.
  assert.deepEqual(transitions(h), ['disarmed->armed@2', 'armed->running@3']);
  assert.deepEqual(h.plant.commands, [
    { at: 0, cmd: 'disarm' },
    { at: 50, cmd: 'arm' },
  ]);
  assert.deepEqual(h.safety.counts, { faults: {}, safe_ticks: 3, estops: 0 });
});

test('armed on start: running on the first full state; one heartbeat per tick, before the state too', () => {
  const h = harness({ steps: 10, emitFirst: false });
  assert.equal(h.safety.state, 'armed');
  h.at(45, () => h.plant.emit()); // the first observation arrives between ticks 2 and 3
  h.run();
  assert.equal(h.steps[0]!.index, 3, 'nothing is served, or sent, before the first full state');
  assert.ok(h.plant.received.every((r) => r.u === PLANNED));
  assert.deepEqual(transitions(h), ['armed->running@3']);
  assert.equal(h.plant.heartbeats, 11, 'ticks 0..10, served or not');
  assert.deepEqual(h.plant.commands, [{ at: 0, cmd: 'arm' }]);
  assert.ok(h.completed());
});

test('a channel that stops reporting: the safe action on the first tick past its max age, then cleared by fresh data', () => {
  const h = harness({ steps: 20 });
  // vel's last reading comes with the send of tick 2 (t = 40); max age 3 periods = 60 ms.
  h.at(50, () => h.plant.muted.add('vel'));
  h.at(130, () => h.plant.muted.delete('vel')); // next reading with the send of tick 7 (t = 140)
  h.run();
  const safeTicks = h.steps.filter((s) => has(s.flags, SAFE)).map((s) => s.index);
  // At t = 100 vel is exactly 60 ms old (not stale); at t = 120 (tick 6) it is 80 ms old.
  // Tick 7 (t = 140) still sees it stale (its reading comes with this tick's send); ticks 8, 9, 10
  // are good, and the third clears the fault and serves the plan.
  assert.deepEqual(safeTicks, [6, 7, 8, 9]);
  const first = h.steps.find((s) => s.index === 6)!;
  assert.ok(has(first.flags, StepFlags.stale_state) && has(first.flags, FAULTED));
  assert.ok(h.plant.received[6]!.at - 40 <= 60 + PERIOD_MS, 'sent within one control period of going stale');
  assert.equal(h.plant.received[6]!.u, 0);
  assert.deepEqual(
    h.events.filter((e) => e.kind !== 'transition').map((e) => [e.kind, e.fault, e.tick]),
    [
      ['fault_raised', 'sensor_stale:vel', 6],
      ['fault_cleared', 'sensor_stale:vel', 10],
    ],
  );
  assert.deepEqual(transitions(h), ['armed->running@0', 'running->faulted@6', 'faulted->armed@10', 'armed->running@10']);
  assert.deepEqual(h.safety.counts, { faults: { 'sensor_stale:vel': 1 }, safe_ticks: 4, estops: 0 });
});

test("staleness goes by arrival on the daemon's clock, not by the robot's stamps", () => {
  const h = harness({ steps: 40, emitFirst: false });
  h.plant.stampOffset = -1e6; // a robot clock far behind ours, and never synchronised
  h.plant.emit();
  h.run();
  assert.deepEqual(h.safety.counts.faults, {});
  assert.ok(sent(h).every((u) => u === PLANNED));
});

test('a plan that finishes after its deadline is not sent: the safe action goes out at the deadline', () => {
  let n = 0;
  let scheduler: SchedulerLike | undefined;
  const plan: PlanStage = () => {
    // The plan of tick 2 takes 30 ms of virtual time (deadline: 20 ms); the others are instant.
    if (n++ === 2) return timer(30, scheduler).pipe(map(() => ({ action: Float32Array.of(0.9), planMs: 30 })));
    return of({ action: Float32Array.of(PLANNED), planMs: 0 });
  };
  const h = harness({ steps: 8, plan });
  scheduler = h.scheduler;
  h.run();
  assert.ok(!sent(h).includes(Math.fround(0.9)), 'the late action never reaches the plant');
  const late = h.steps.find((s) => s.index === 2)!;
  assert.ok(has(late.flags, SAFE) && has(late.flags, FAULTED));
  assert.equal(h.plant.received[2]!.at, 2 * PERIOD_MS + 20, 'the safe action went out at the deadline');
  // Ticks 3, 4 and 5 are on time; the third clears the fault.
  assert.deepEqual(h.steps.filter((s) => has(s.flags, SAFE)).map((s) => s.index), [2, 3, 4]);
  assert.deepEqual(h.steps.map((s) => s.index), [...Array(9).keys()], 'no tick dropped');
  assert.deepEqual(h.safety.counts.faults, { deadline_missed: 1 });
});

test('faults and clears are logged through pino with their reason and tick', () => {
  const lines: { level: number; msg: string; fault?: string; tick?: number }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  const scheduler = virtualScheduler();
  const plant = new LinkFakePlant(0.02, scheduler);
  const filter = new ActionFilter({ low: Float32Array.of(-1), high: Float32Array.of(1) }, Float32Array.of(0), Float32Array.of(Infinity), 0.02);
  const safety = new SafetySupervisor({ plant, config: defaultSafetyConfig(PERIOD_MS), safeAction: Float32Array.of(0), logger });
  controlLoop({ plant, stateDim: 2, periodMs: PERIOD_MS, scheduler, steps: 20, plan: constantPlan, filter, safety }).subscribe();
  plant.emit();
  scheduler.schedule(() => plant.event({ kind: 'link_down', detail: 'cable' }), 30);
  scheduler.schedule(() => plant.event({ kind: 'link_up', detail: 'cable' }), 50);
  scheduler.flush();
  const warn = lines.find((l) => l.level === 40)!;
  assert.equal(warn.fault, 'link_down');
  assert.equal(warn.tick, 1);
  assert.match(warn.msg, /fault link_down, sending the safe action \(brake\)/);
  // Default good_ticks 10: ticks 3..12 after the link_up at 50 ms.
  const cleared = lines.find((l) => l.level === 30 && l.fault === 'link_down')!;
  assert.equal(cleared.tick, 12);
  assert.ok(lines.some((l) => l.level === 30 && /faulted -> armed/.test(l.msg)));
});

test('a safe action and a filter of different lengths are refused at subscription', () => {
  const scheduler = virtualScheduler();
  const plant = new LinkFakePlant(0.02, scheduler);
  const filter = new ActionFilter({ low: Float32Array.of(-1), high: Float32Array.of(1) }, Float32Array.of(0), Float32Array.of(Infinity), 0.02);
  const safety = new SafetySupervisor({ plant, config: defaultSafetyConfig(PERIOD_MS), safeAction: Float32Array.of(0, 0), logger: pino({ level: 'silent' }) });
  let error: unknown;
  controlLoop({ plant, stateDim: 2, periodMs: PERIOD_MS, scheduler, steps: 5, plan: constantPlan, filter, safety }).subscribe({ error: (e: unknown) => (error = e) });
  assert.ok(error instanceof MpcdError && error.code === 'SAFETY_ACTION_DIM');
});
