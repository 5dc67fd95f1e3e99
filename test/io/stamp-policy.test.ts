import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultStampLimits, StampPolicy, type ClockStep, type StampVerdict } from '../../src/io/stamp-policy.js';

/**
 * The stamp policy on made-up streams: a robot whose clock reads `robotAt(t)` at daemon time t,
 * one reading every 10 ms with 1-3 ms of latency. Counts what was accepted and dropped.
 */
const PERIOD = 0.01;
const LIMITS = { maxStampLead: 3 * PERIOD, clockStepReadings: 5 };

interface Run {
  verdicts: { t: number; v: StampVerdict }[];
  steps: ClockStep[];
  policy: StampPolicy;
}

function newRun(): Run {
  const steps: ClockStep[] = [];
  return { verdicts: [], steps, policy: new StampPolicy({ ...LIMITS, onClockStep: (s) => steps.push(s) }) };
}

/** Feeds `n` readings of `channel` from daemon time `t0`, stamped by `robotAt`; `latency(i)` s each. */
function feed(run: Run, t0: number, n: number, robotAt: (t: number) => number, channel = 'pole', latency = (i: number) => 0.001 + 0.002 * ((i * 7) % 3) / 2): void {
  for (let i = 0; i < n; i++) {
    const measured = t0 + i * PERIOD;
    const received = measured + latency(i);
    run.verdicts.push({ t: received, v: run.policy.judge(channel, robotAt(measured), received) });
  }
}

const drops = (run: Run, from = 0): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const { t, v } of run.verdicts) if (t >= from && !v.ok) out[v.reason] = (out[v.reason] ?? 0) + 1;
  return out;
};

function assertMonotone(run: Run): void {
  let last = -Infinity;
  for (const { v } of run.verdicts) {
    if (!v.ok) continue;
    assert.ok(v.stamp > last, `stamps handed on went backwards: ${v.stamp} after ${last}`);
    last = v.stamp;
  }
}

describe('stamp policy', () => {
  test('a clean stream: every reading accepted, its stamp in the daemon clock within the link latency', () => {
    const run = newRun();
    feed(run, 0, 500, (t) => 1000 + t); // the robot booted 1000 s before the daemon
    assert.deepEqual(drops(run), {});
    for (const { t, v } of run.verdicts) {
      assert.ok(v.ok);
      assert.ok(v.stamp <= t + 1e-9 && v.stamp > t - 0.01, `stamp ${v.stamp} received at ${t}`);
    }
    assertMonotone(run);
  });

  test('one reading stamped 10^6 s ahead costs only itself: dropped as stamp_in_future, never the watermark', () => {
    const run = newRun();
    feed(run, 0, 100, (t) => t);
    run.verdicts.push({ t: 1.0005, v: run.policy.judge('pole', 1e6, 1.0005) });
    feed(run, 1.001, 100, (t) => t);
    assert.deepEqual(drops(run), { stamp_in_future: 1 });
    assert.equal(run.steps.length, 0);
    assertMonotone(run);
  });

  test('a garbage stamp as the first reading of a session: the good ones re-base after a clock step, a few readings dropped', () => {
    const run = newRun();
    run.verdicts.push({ t: 0, v: run.policy.judge('pole', 1e6, 0) });
    feed(run, 0.01, 100, (t) => t);
    assert.equal(run.steps.length, 1);
    assert.ok(run.steps[0]!.jump < -9e5, `jump ${run.steps[0]!.jump}`);
    assert.deepEqual(drops(run), { not_newer: LIMITS.clockStepReadings - 1 });
    assertMonotone(run);
  });

  for (const jump of [-5, 5]) {
    test(`the robot's clock steps ${jump} s for good: a clock step of ${jump} s after ${LIMITS.clockStepReadings - 1} dropped readings, then every reading again`, () => {
      const run = newRun();
      feed(run, 0, 100, (t) => 50 + t);
      feed(run, 1, 200, (t) => 50 + t + jump);
      assert.equal(run.steps.length, 1);
      assert.ok(Math.abs(run.steps[0]!.jump - jump) < 0.005, `jump ${run.steps[0]!.jump}`);
      assert.equal(run.steps[0]!.dropped, LIMITS.clockStepReadings - 1);
      assert.deepEqual(drops(run), { [jump < 0 ? 'not_newer' : 'stamp_in_future']: LIMITS.clockStepReadings - 1 });
      assertMonotone(run);
      // After the step, stamps are daemon time again.
      const last = run.verdicts.at(-1)!;
      assert.ok(last.v.ok && Math.abs(last.v.stamp - last.t) < 0.01);
    });
  }

  test('small steps within the lead limit cost nothing forward, and a backward one only the readings it overlaps', () => {
    const run = newRun();
    feed(run, 0, 100, (t) => t);
    feed(run, 1, 100, (t) => t + 0.02); // forward 20 ms (< 30 ms lead)
    feed(run, 2, 100, (t) => t + 0.02 - 0.025); // back 25 ms: 2-3 readings are not newer
    assert.equal(run.steps.length, 0);
    const d = drops(run);
    assert.equal(d['stamp_in_future'], undefined);
    assert.ok((d['not_newer'] ?? 0) <= 3, JSON.stringify(d));
  });

  test('duplicates, reordered and frozen readings are dropped as not_newer and never taken for a clock step', () => {
    const run = newRun();
    const p = run.policy;
    let t = 0;
    const v: StampVerdict[] = [];
    for (let i = 0; i < 300; i++, t += PERIOD) {
      v.push(p.judge('pole', t, t + 0.001));
      if (i % 7 === 0) v.push(p.judge('pole', t, t + 0.002)); // duplicate
      if (i % 11 === 0 && i > 0) v.push(p.judge('pole', t - PERIOD, t + 0.002)); // late
    }
    // Frozen: the same reading, stamp and all, for 1 s.
    const frozenAt = t;
    for (let i = 0; i < 100; i++) v.push(p.judge('pole', frozenAt, frozenAt + i * PERIOD));
    assert.equal(run.steps.length, 0);
    assert.ok(v.filter((x) => !x.ok).every((x) => !x.ok && x.reason === 'not_newer'));
    assert.equal(v.filter((x) => !x.ok).length, 43 + 27 + 99);
  });

  test('a replayed burst of old readings (all arriving at once) is not a clock step', () => {
    const run = newRun();
    feed(run, 0, 200, (t) => t);
    // 20 readings from a second ago, delivered within 1 ms.
    for (let i = 0; i < 20; i++) run.verdicts.push({ t: 2 + i * 5e-5, v: run.policy.judge('pole', 1 + i * PERIOD, 2 + i * 5e-5) });
    feed(run, 2.001, 50, (t) => t);
    assert.equal(run.steps.length, 0);
    assert.deepEqual(drops(run), { not_newer: 20 });
  });

  test('a new session (a reboot) accepts the first reading of the restarted clock at once, and stamps keep going forward', () => {
    const run = newRun();
    feed(run, 0, 100, (t) => 3600 + t);
    run.policy.newSession();
    feed(run, 1.2, 100, (t) => t - 1.2); // the robot's clock starts again at 0
    assert.deepEqual(drops(run), {});
    assert.equal(run.steps.length, 0);
    assertMonotone(run);
  });

  test('channels keep their own clocks: one board stepping does not disturb the other', () => {
    const run = newRun();
    for (let i = 0; i < 300; i++) {
      const t = i * PERIOD;
      run.verdicts.push({ t, v: run.policy.judge('cart', 10 + t, t + 0.001) });
      run.verdicts.push({ t, v: run.policy.judge('pole', 20 + t - (i >= 100 ? 5 : 0), t + 0.001) });
    }
    assert.equal(run.steps.length, 1);
    assert.equal(run.steps[0]!.channel, 'pole');
    assert.deepEqual(drops(run), { not_newer: LIMITS.clockStepReadings - 1 });
  });

  test('a robot clock drifting 300 ppm against the daemon for an hour loses nothing', () => {
    const run = newRun();
    const p = run.policy;
    let dropped = 0;
    for (let i = 0; i < 360_000; i++) {
      const t = i * PERIOD;
      const v = p.judge('pole', t * (1 + 3e-4), t + 0.001 + 0.002 * (i % 2));
      if (!v.ok) dropped++;
    }
    assert.equal(dropped, 0);
    const slow = newRun();
    for (let i = 0; i < 360_000; i++) {
      const t = i * PERIOD;
      if (!slow.policy.judge('pole', t * (1 - 3e-4), t + 0.001).ok) dropped++;
    }
    assert.equal(dropped, 0);
  });

  test('defaults: 3 control periods of lead, about 50 ms of readings for a step, at least 2', () => {
    assert.deepEqual(defaultStampLimits(0.02), { maxStampLead: 0.06, clockStepReadings: 3 });
    assert.deepEqual(defaultStampLimits(0.01), { maxStampLead: 0.03, clockStepReadings: 5 });
    assert.equal(defaultStampLimits(0.1).clockStepReadings, 2);
  });
});
