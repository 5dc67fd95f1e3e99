import assert from 'node:assert/strict';
import { test } from 'node:test';
import { of } from 'rxjs';
import { StepFlags, type PlanStage } from '../../src/loop/control-loop.js';
import { TransitionRecorder } from '../../src/loop/transition-recorder.js';
import { TaskCost } from '../../src/costs/task-cost.js';
import type { Transition } from '../../src/log/transition-schema.js';
import { TransitionFlags } from '../../src/log/transition-schema.js';
import { FilterFlags } from '../../src/safety/action-filter.js';
import { harness, PERIOD_MS, PLANNED, sent, transitions } from './harness.js';

const SAFE = TransitionFlags.safe_action_sent;
const FAULTED = TransitionFlags.faulted;
const has = (flags: number, bit: number): boolean => (flags & bit) !== 0;
function approx(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length, `${actual} vs ${expected}`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) < 1e-6, `[${i}]: ${a} vs ${expected[i]} in ${actual}`));
}
const safeTicks = (h: ReturnType<typeof harness>): number[] => h.steps.filter((s) => has(s.flags, SAFE)).map((s) => s.index);

test('a synchronous plan that blocks past its deadline is late too', () => {
  let n = 0;
  let h: ReturnType<typeof harness> | undefined;
  const plan: PlanStage = () => {
    // Tick 2's planner blocks the process for 25 ms (a real-time planner overrunning).
    if (n++ === 2) h!.scheduler.frame += 25;
    return of({ action: Float32Array.of(n === 3 ? 0.9 : PLANNED), planMs: 0 });
  };
  h = harness({ steps: 8, plan });
  h.run();
  assert.ok(!sent(h).includes(Math.fround(0.9)));
  assert.equal(h.plant.received[2]!.at, 65, 'sent as soon as the blocked planner returned');
  assert.deepEqual(safeTicks(h), [2, 3, 4]);
  assert.deepEqual(h.safety.counts.faults, { deadline_missed: 1 });
});

test('link_down faults at once; link_up clears it by rule and tells the robot its arming again', () => {
  const h = harness({ steps: 12 });
  h.at(50, () => h.plant.event({ kind: 'link_down', detail: 'broker gone' }));
  h.at(110, () => h.plant.event({ kind: 'link_up', detail: 'broker back' }));
  h.run();
  assert.deepEqual(safeTicks(h), [3, 4, 5, 6, 7]); // ticks 6, 7, 8 after the link_up are good; 8 clears
  assert.deepEqual(h.plant.commands, [
    { at: 0, cmd: 'arm' },
    { at: 110, cmd: 'arm' },
  ]);
  const raised = h.events.find((e) => e.kind === 'fault_raised');
  assert.deepEqual(raised, { kind: 'fault_raised', tick: 2, fault: 'link_down', clear: 'auto', detail: 'broker gone' });
  assert.deepEqual(transitions(h), ['armed->running@0', 'running->faulted@2', 'faulted->armed@8', 'armed->running@8']);
});

test('an e-stop from the plant faults at once, never clears by itself, and clears only with arm()', () => {
  const h = harness({ steps: 30 });
  h.at(50, () => h.plant.event({ kind: 'estop', source: 'robot button' }));
  h.at(450, () => h.safety.arm());
  h.run();
  assert.deepEqual(safeTicks(h), [...Array(20).keys()].map((i) => i + 3), 'ticks 3..22 (t = 60..440)');
  assert.ok(h.steps.slice(3, 23).every((s) => has(s.flags, FAULTED)));
  assert.ok(sent(h).slice(23).every((u) => u === PLANNED));
  assert.deepEqual(h.plant.commands, [
    { at: 0, cmd: 'arm' },
    { at: 50, cmd: 'estop' },
    { at: 450, cmd: 'arm' },
  ]);
  assert.deepEqual(
    h.events.filter((e) => e.kind !== 'transition'),
    [
      { kind: 'fault_raised', tick: 2, fault: 'estop', clear: 'manual', detail: 'robot button' },
      { kind: 'fault_cleared', tick: 22, fault: 'estop', by: 'arm' },
    ],
  );
  assert.deepEqual(transitions(h), ['armed->running@0', 'running->faulted@2', 'faulted->armed@22', 'armed->running@23']);
  assert.deepEqual(h.safety.counts, { faults: { estop: 1 }, safe_ticks: 20, estops: 1 });
});

test('a local e-stop works the same, and disarm() does not lift it', () => {
  const h = harness({ steps: 10 });
  h.at(30, () => h.safety.estop('operator'));
  h.at(50, () => h.safety.disarm());
  h.at(90, () => h.safety.arm());
  h.run();
  assert.deepEqual(h.plant.commands.map((c) => c.cmd), ['arm', 'estop', 'arm']);
  assert.deepEqual(safeTicks(h), [2, 3, 4]);
  assert.equal(h.safety.counts.estops, 1);
});

test('disarm() while faulted: once the fault clears the machine is disarmed, not running', () => {
  const h = harness({ steps: 10 });
  h.at(30, () => h.plant.event({ kind: 'link_down', detail: '' }));
  h.at(50, () => h.safety.disarm());
  h.at(70, () => h.plant.event({ kind: 'link_up', detail: '' }));
  h.run();
  assert.deepEqual(safeTicks(h), [2, 3, 4, 5, 6, 7, 8, 9]);
  // Faulted on ticks 2..5; good ticks 4, 5, 6 clear it at tick 6; the safe action goes on, no longer faulted.
  assert.deepEqual(h.steps.map((s) => (has(s.flags, FAULTED) ? 'F' : '.')).join(''), '..FFFF.....');
  assert.deepEqual(transitions(h), ['armed->running@0', 'running->faulted@1', 'faulted->disarmed@6']);
  assert.deepEqual(h.plant.commands, [
    { at: 0, cmd: 'arm' },
    { at: 50, cmd: 'disarm' },
    { at: 70, cmd: 'disarm' },
  ]);
});

test('the action filter comes last: a safe action outside the bounds is clamped', () => {
  const h = harness({ steps: 4, safe: 5, bounds: [-1, 1], config: { armOnStart: false } });
  h.run();
  assert.deepEqual(sent(h), [1, 1, 1, 1]);
  assert.ok(h.steps.slice(0, 4).every((s) => has(s.flags, FilterFlags.clamped) && has(s.flags, SAFE)));
});

test('the action filter comes last: the safe action is rate limited from the last action sent', () => {
  // Planned 1.0; 10 units/s at 20 ms = at most 0.2 per tick towards the brake value 0.
  const plan: PlanStage = () => of({ action: Float32Array.of(1), planMs: 0 });
  const h = harness({ steps: 9, plan, bounds: [-2, 2], rate: 10 });
  h.at(70, () => h.safety.estop());
  h.run();
  approx(sent(h), [1, 1, 1, 1, 0.8, 0.6, 0.4, 0.2, 0]);
  assert.ok(has(h.steps[4]!.flags, FilterFlags.rate_limited) && has(h.steps[4]!.flags, SAFE));
});

test('safe modes: hold repeats the last action sent, zero sends zeros, brake the configured values', () => {
  let u = 0;
  const ramp: PlanStage = () => of({ action: Float32Array.of((u += 0.1)), planMs: 0 });
  const run = (mode: 'hold' | 'zero' | 'brake'): number[] => {
    u = 0;
    const h = harness({ steps: 6, plan: ramp, safe: -0.3, config: { mode } });
    h.at(50, () => h.safety.estop());
    h.run();
    return sent(h);
  };
  approx(run('hold'), [0.1, 0.2, 0.3, 0.3, 0.3, 0.3]);
  approx(run('zero'), [0.1, 0.2, 0.3, 0, 0, 0]);
  approx(run('brake'), [0.1, 0.2, 0.3, -0.3, -0.3, -0.3]);
});

test('a planner that throws: fault planner_error, the safe action, and the loop goes on', () => {
  let n = 0;
  const plan: PlanStage = () => {
    if (n++ === 1) throw new Error('solver diverged');
    return of({ action: Float32Array.of(PLANNED), planMs: 0 });
  };
  const h = harness({ steps: 8, plan });
  h.run();
  assert.ok(h.completed());
  assert.equal(h.steps.length, 9);
  assert.deepEqual(safeTicks(h), [1, 2, 3]);
  const raised = h.events.find((e) => e.kind === 'fault_raised');
  assert.deepEqual(raised, { kind: 'fault_raised', tick: 1, fault: 'planner_error', clear: 'auto', detail: 'solver diverged' });
});

test('a channel that never reports is reported stale while the loop waits for its first full state', () => {
  const h = harness({ steps: 8, emitFirst: false });
  h.plant.muted.add('vel');
  for (let k = 0; k < 9; k++) h.at(k * PERIOD_MS + 10, () => h.plant.emit()); // pos keeps reporting
  h.run();
  assert.equal(h.steps.length, 0);
  assert.equal(h.plant.received.length, 0);
  assert.equal(h.plant.heartbeats, 9);
  // Counted from the start of the session: 80 ms > 60 ms at tick 4.
  assert.deepEqual(
    h.events.filter((e) => e.kind === 'fault_raised').map((e) => [e.fault, e.tick]),
    [['sensor_stale:vel', 4]],
  );
});

test('every tick acted on is logged: safe and faulted transitions are flagged, clean ones are 0', () => {
  const logged: Transition[] = [];
  const h = harness({ steps: 12 });
  const recorder = new TransitionRecorder(new TaskCost([]), (tr) => logged.push(tr), 0, 0);
  h.at(50, () => h.plant.event({ kind: 'link_down', detail: '' }));
  h.at(70, () => h.plant.event({ kind: 'link_up', detail: '' }));
  h.run();
  for (const s of h.steps) recorder.onStep(s);
  assert.equal(logged.length, 12, 'one transition per tick that sent an action');
  assert.deepEqual(logged.map((t) => t.action[0]), sent(h));
  // Faulted after tick 2 (between ticks); safe actions on ticks 3, 4, 5; tick 6 clears.
  assert.deepEqual(logged.map((t) => (has(t.flags, SAFE) ? 'S' : '.')).join(''), '...SSS......');
  // faulted marks a transition whose s or s' was taken while faulted.
  assert.deepEqual(logged.map((t) => (has(t.flags, FAULTED) ? 'F' : '.')).join(''), '..FFFF......');
  assert.ok(logged.filter((t) => !has(t.flags, SAFE | FAULTED)).every((t) => t.flags === (t.step === 11 ? StepFlags.episode_end : 0)));
  assert.ok(h.steps.length === 13 && h.steps.at(-1)!.action === undefined);
});
