import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { fixedRateTicks, type Tick } from '../../src/loop/fixed-rate-ticks.js';

/**
 * A scheduler driven by hand: `run()` fires due actions in order; the clock can be pushed
 * forward from inside an action to play a process that was blocked (a late loop).
 */
class ManualScheduler implements SchedulerLike {
  time = 0;
  private queue: { due: number; fire: () => void }[] = [];

  now(): number {
    return this.time;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state: T) => void, delay = 0, state?: T): Subscription {
    const sub = new Subscription();
    const action = Object.assign(sub, {
      schedule: (s?: T, d = 0): Subscription => {
        this.queue.push({ due: this.time + d, fire: () => !sub.closed && work.call(action, s as T) });
        return sub;
      },
    }) as SchedulerAction<T>;
    action.schedule(state, delay);
    return sub;
  }

  run(): void {
    while (this.queue.length > 0) {
      this.queue.sort((a, b) => a.due - b.due);
      const next = this.queue.shift()!;
      this.time = Math.max(this.time, next.due);
      next.fire();
    }
  }
}

test('ticks are due at start + n * period, whatever the timer jitter', () => {
  const s = new ManualScheduler();
  s.time = 1000;
  const ticks: Tick[] = [];
  fixedRateTicks(20, s, 10).subscribe((t) => {
    ticks.push(t);
    s.time += 3; // every firing runs 3 ms late; the schedule must not drift by it
  });
  s.run();
  assert.deepEqual(ticks.map((t) => t.due), [...Array(10).keys()].map((n) => 1000 + 20 * n));
  assert.ok(ticks.every((t) => t.missed === 0));
});

test('slots that pass while the loop is blocked are skipped and reported', () => {
  const s = new ManualScheduler();
  const ticks: Tick[] = [];
  fixedRateTicks(20, s, 12).subscribe((t) => {
    ticks.push(t);
    if (t.index === 3) s.time += 50; // blocked for 2.5 periods during tick 3
  });
  s.run();
  assert.deepEqual(ticks.map((t) => t.index), [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11]);
  assert.equal(ticks[4]!.missed, 1);
  assert.equal(ticks.reduce((n, t) => n + t.missed, 0), 1);
});

test('completes after count ticks and stops on unsubscribe', () => {
  const s = new ManualScheduler();
  let completed = false;
  let n = 0;
  fixedRateTicks(10, s, 5).subscribe({ next: () => n++, complete: () => (completed = true) });
  s.run();
  assert.equal(n, 5);
  assert.ok(completed);
  const s2 = new ManualScheduler();
  let m = 0;
  const sub = fixedRateTicks(10, s2).subscribe(() => {
    if (++m === 3) sub.unsubscribe();
  });
  s2.run();
  assert.equal(m, 3);
});
