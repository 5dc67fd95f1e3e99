import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { map, of, timer, toArray } from 'rxjs';
import { virtualScheduler } from '../../src/loop/clock.js';
import { controlLoop, StepFlags, type ControlStep, type PlanStage } from '../../src/loop/control-loop.js';
import { ActionFilter, FilterFlags } from '../../src/safety/action-filter.js';
import { defaultSafetyConfig } from '../../src/safety/safety-config.js';
import { SafetySupervisor } from '../../src/safety/safety-supervisor.js';
import { FakePlant } from './fake-plant.js';

const PERIOD = 0.02;
const bounds = { low: Float32Array.of(-1), high: Float32Array.of(1) };

function run(plan: PlanStage, steps: number, opts: { safe?: number; rate?: number } = {}) {
  const scheduler = virtualScheduler();
  const plant = new FakePlant(PERIOD);
  const filter = new ActionFilter(bounds, Float32Array.of(opts.safe ?? 0), Float32Array.of(opts.rate ?? Infinity), PERIOD);
  let out: ControlStep[] = [];
  controlLoop({ plant, stateDim: 1, periodMs: PERIOD * 1000, scheduler, steps, plan, filter })
    .pipe(toArray())
    .subscribe((s) => (out = s));
  plant.emit(); // the initial observation
  scheduler.flush();
  return { steps: out, plant };
}

/** A proportional controller standing in for the planner: u = -2 x, instant. */
const proportional: PlanStage = (state) => of({ action: Float32Array.of(-2 * state[0]!), planMs: 0 });

test('serves every tick in virtual time and ends with an observing tick', () => {
  const { steps, plant } = run((s) => proportional(s, 1), 50);
  assert.equal(steps.length, 51);
  assert.deepEqual(steps.map((s) => s.index), [...Array(51).keys()]);
  assert.equal(plant.received.length, 50);
  assert.equal(steps.at(-1)!.action, undefined);
  assert.ok((steps.at(-1)!.flags & StepFlags.episode_end) !== 0);
  assert.ok(steps.every((s) => s.dropped === 0));
});

test('the tick is drift-free: due times are start + n * period exactly', () => {
  const { steps } = run((s) => proportional(s, 1), 200);
  steps.forEach((s, n) => assert.equal(s.due, n * 20));
});

test('a planner overrun drops the ticks that arrive while it runs, and counts them', () => {
  const scheduler = virtualScheduler();
  const plant = new FakePlant(PERIOD);
  const filter = new ActionFilter(bounds, Float32Array.of(0), Float32Array.of(Infinity), PERIOD);
  // A deadline of 3 periods: the 2.5-period plans overrun the period but are on time, so their
  // actions go out (test/safety covers a plan that misses its deadline).
  const safety = new SafetySupervisor({ plant, config: { ...defaultSafetyConfig(20), deadlineMs: 60 }, safeAction: Float32Array.of(0), logger: pino({ level: 'silent' }) });
  // Every plan takes 50 ms of virtual time: 2.5 periods.
  const slow: PlanStage = () => timer(50, scheduler).pipe(map(() => ({ action: Float32Array.of(0.5), planMs: 50 })));
  const elapsed: number[] = [];
  const spy: PlanStage = (state, e) => {
    elapsed.push(e);
    return slow(state, e);
  };
  let steps: ControlStep[] = [];
  controlLoop({ plant, stateDim: 1, periodMs: 20, scheduler, steps: 30, plan: spy, filter, safety })
    .pipe(toArray())
    .subscribe((s) => (steps = s));
  plant.emit();
  scheduler.flush();
  // Ticks at 0, 20, 40, ...: a plan started at tick n ends at 20n + 50, so ticks n+1 and n+2
  // are dropped and tick n+3 is served.
  const served = steps.map((s) => s.index);
  assert.deepEqual(served.slice(0, 4), [0, 3, 6, 9]);
  assert.ok(steps.slice(1).every((s) => s.dropped === 2 && (s.flags & StepFlags.ticks_dropped_before) !== 0));
  // The planner is told how many periods passed, so its warm start shifts by 3, not 1.
  assert.deepEqual(elapsed.slice(0, 4), [1, 3, 3, 3]);
  const dropped = steps.reduce((sum, s) => sum + s.dropped, 0);
  assert.equal(served.length + dropped, 31);
  assert.ok(plant.received.every((a) => a[0] === 0.5), 'every plan was on time: its action went out');
});

test('a NaN or infinite action becomes the safe action', () => {
  let n = 0;
  const sometimesBad: PlanStage = () => {
    n++;
    const u = n === 3 ? Number.NaN : n === 5 ? Number.POSITIVE_INFINITY : 0.25;
    return of({ action: Float32Array.of(u), planMs: 0 });
  };
  const { steps, plant } = run(sometimesBad, 6, { safe: -0.1 });
  assert.deepEqual(plant.received.map((a) => a[0]), [0.25, 0.25, -0.1, 0.25, -0.1, 0.25].map(Math.fround));
  assert.ok((steps[2]!.flags & FilterFlags.non_finite_replaced) !== 0);
  assert.ok((steps[4]!.flags & FilterFlags.non_finite_replaced) !== 0);
  assert.equal(steps[1]!.flags & FilterFlags.non_finite_replaced, 0);
});

test('actions are clamped to the bounds and rate limited, bounds last', () => {
  const big: PlanStage = () => of({ action: Float32Array.of(5), planMs: 0 });
  // 10 units/s at 20 ms: at most 0.2 per tick.
  const { steps, plant } = run(big, 8, { rate: 10 });
  const sent = plant.received.map((a) => a[0]!);
  assert.ok(Math.abs(sent[0]! - 1) < 1e-6, 'first action: clamped to the bound, not rate limited');
  assert.ok(sent.every((u) => u <= 1 + 1e-6));
  assert.ok((steps[0]!.flags & FilterFlags.clamped) !== 0);
});

test('no planning before every channel has reported', () => {
  const scheduler = virtualScheduler();
  const plant = new FakePlant(PERIOD);
  const filter = new ActionFilter(bounds, Float32Array.of(0), Float32Array.of(Infinity), PERIOD);
  let steps: ControlStep[] = [];
  controlLoop({ plant, stateDim: 1, periodMs: 20, scheduler, steps: 10, plan: proportional, filter })
    .pipe(toArray())
    .subscribe((s) => (steps = s));
  // The first observation arrives only at 45 ms.
  scheduler.schedule(() => plant.emit(), 45);
  scheduler.flush();
  assert.equal(steps[0]!.index, 3);
  assert.equal(steps[0]!.dropped, 0);
});

test('the loop closes the feedback: the integrator goes to zero', () => {
  const plan: PlanStage = (s) => proportional(s, 1);
  const scheduler = virtualScheduler();
  const plant = new FakePlant(PERIOD);
  plant.x = 1;
  const filter = new ActionFilter(bounds, Float32Array.of(0), Float32Array.of(Infinity), PERIOD);
  controlLoop({ plant, stateDim: 1, periodMs: 20, scheduler, steps: 300, plan, filter }).subscribe();
  plant.emit();
  scheduler.flush();
  assert.ok(Math.abs(plant.x) < 1e-4, `x = ${plant.x}`);
});
