import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { Subject } from 'rxjs';
import { LiveParamValues } from '../../src/costs/task-params.js';
import { goalMessageSchema, type GoalArrival, type GoalReport } from '../../src/io/goal-message.js';
import type { PlantPort } from '../../src/io/plant.js';
import { GoalInbox, type TakenGoal } from '../../src/loop/goal-inbox.js';

const task = {
  params: {
    k: 3,
    tx: { default: 0.5, bounds: [-1, 1] as [number, number], live: true },
    tz: { default: 0.2, bounds: [0, 1] as [number, number], live: true },
  },
};

function rig() {
  const goals = new Subject<GoalArrival>();
  const reports: GoalReport[] = [];
  const taken: TakenGoal[] = [];
  const plant = { goals$: goals.asObservable(), reportGoal: (r: GoalReport) => reports.push(r) } as unknown as PlantPort;
  const live = new LiveParamValues(task);
  const inbox = new GoalInbox(plant, live, (g) => taken.push(g), pino({ level: 'silent' }));
  /** A goal as the plant hands it over, shaped by the wire's schema; received at `at` (daemon clock, s). */
  const send = (msg: Record<string, unknown>, at: number) => {
    const parsed = goalMessageSchema.safeParse(msg);
    goals.next(parsed.success ? { ok: true, goal: parsed.data, receivedAt: at } : { ok: false, reason: 'schema', error: parsed.error.message, receivedAt: at });
  };
  return { goals, reports, taken, live, inbox, send };
}

test('a valid goal sets the live params at once, is answered accepted and reaches the owner', () => {
  const { reports, taken, live, inbox, send } = rig();
  send({ seq: 1, stamp: 100, ttl: 1, params: { tx: -0.3, tz: 0.7 } }, 5);
  assert.equal(live.get('tx'), -0.3);
  assert.equal(live.get('tz'), 0.7);
  assert.deepEqual(taken, [{ sender: 'default', seq: 1, params: { tx: -0.3, tz: 0.7 }, replan: false }]);
  assert.equal(reports.at(-1)!.verdict, 'accepted');
  assert.deepEqual(reports.at(-1)!.params, { tx: -0.3, tz: 0.7 });
  assert.equal(inbox.counts.accepted, 1);
});

test('a goal with one value out of bounds changes nothing, not even its valid values, and says which', () => {
  const { reports, live, inbox, send } = rig();
  send({ seq: 1, stamp: 100, ttl: 1, params: { tx: 0.1 } }, 5);
  send({ seq: 2, stamp: 100.1, ttl: 1, params: { tx: 0.9, tz: 3 } }, 5.1);
  assert.equal(live.get('tx'), 0.1, 'the last valid goal holds');
  assert.equal(live.get('tz'), 0.2);
  const r = reports.at(-1)!;
  assert.equal(r.verdict, 'refused');
  assert.match(r.reason!, /tz = 3 is outside its bounds \[0, 1\]/);
  assert.equal(inbox.counts.rejected.refused, 1);
});

test('unknown and constant params are refused, as are NaN, malformed, duplicate and stale goals; each counted by reason', () => {
  const { reports, live, inbox, send, goals } = rig();
  send({ seq: 5, stamp: 100, ttl: 0.5, params: { tx: 0.4 } }, 10); // the sender's clock offset: 90 s, this one arrived fast
  send({ seq: 6, stamp: 100.1, ttl: 0.5, params: { k: 1 } }, 10.1);
  assert.match(reports.at(-1)!.reason!, /k is not a live param of this task \(live: tx, tz\)/);
  send({ seq: 7, stamp: 100.2, ttl: 0.5, params: { tx: 'far' } }, 10.2);
  assert.equal(reports.at(-1)!.verdict, 'malformed');
  goals.next({ ok: false, reason: 'non_finite', error: 'params.tx: NaN', receivedAt: 10.3 });
  assert.equal(reports.at(-1)!.verdict, 'non_finite');
  send({ seq: 5, stamp: 100.4, ttl: 0.5, params: { tx: 0.9 } }, 10.4); // replayed seq
  assert.equal(reports.at(-1)!.verdict, 'duplicate_or_old');
  send({ seq: 8, stamp: 100.5, ttl: 0.5, params: { tx: 0.9 } }, 12); // queued 1.4 s, ttl 0.5 s
  assert.equal(reports.at(-1)!.verdict, 'stale');
  assert.equal(live.get('tx'), 0.4);
  assert.deepEqual(inbox.counts, { accepted: 1, rejected: { malformed: 1, non_finite: 1, duplicate_or_old: 1, stale: 1, refused: 1 } });
});

test('senders are judged apart: each its own seq and clock', () => {
  const { live, send, reports } = rig();
  send({ sender: 'planner', seq: 100, stamp: 5000, ttl: 1, params: { tx: 0.2 } }, 1);
  send({ sender: 'teleop', seq: 1, stamp: 3, ttl: 1, params: { tx: 0.3 } }, 1.1);
  assert.equal(reports.at(-1)!.verdict, 'accepted', 'a lower seq from another sender is not old');
  assert.equal(live.get('tx'), 0.3);
});
