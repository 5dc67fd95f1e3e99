import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaultInjector } from '../../sim/fault-injector.js';
import { parseFaultSpec } from '../../sim/fault-spec.js';
import { MpcdError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import type { Observation } from '../../src/io/plant.js';
import { virtualScheduler } from '../../src/loop/clock.js';

const obs = (channel: string, stamp: number): Observation => ({ channel, stamp, values: [stamp * 10] });

function rig(...specs: string[]) {
  const scheduler = virtualScheduler();
  const windows: [string, boolean][] = [];
  const faults = new FaultInjector(specs.map(parseFaultSpec), new Rng(3), scheduler, (s, on) => windows.push([s.text, on]));
  const sent: Observation[] = [];
  const push = (o: Observation): void => faults.forward(o, (x) => sent.push(x));
  /** One reading per 10 ms of virtual time. */
  const run = (n: number, channel = 'pole'): void => {
    for (let k = 0; k < n; k++) scheduler.schedule(() => push(obs(channel, k / 100)), k * 10);
    scheduler.flush();
  };
  return { scheduler, faults, sent, windows, push, run };
}

test('fault specs parse, and a wrong one says what is expected', () => {
  assert.deepEqual(parseFaultSpec('stop:2.0@3.0'), { kind: 'stop', channel: undefined, value: 2, start: 3, duration: 2, text: 'stop:2.0@3.0' });
  assert.deepEqual(parseFaultSpec('freeze/pole:1.5@2'), { kind: 'freeze', channel: 'pole', value: 1.5, start: 2, duration: 1.5, text: 'freeze/pole:1.5@2' });
  assert.equal(parseFaultSpec('corrupt:0.1').duration, Infinity);
  assert.deepEqual([parseFaultSpec('drop:0.2@1+2').start, parseFaultSpec('drop:0.2@1+2').duration], [1, 2]);
  for (const bad of ['corrupt:1.5', 'explode:1', 'stop:0', 'corrupt/pole:0.1', 'drop', 'delay:-3', 'stop:1@2+3']) {
    assert.throws(() => parseFaultSpec(bad), (e: unknown) => e instanceof MpcdError && e.code === 'FAULT_SPEC' && e.message.includes('expected KIND'), bad);
  }
});

test('the clock and session faults parse: garbage_stamp, clock_step (signed), reboot, flood', () => {
  assert.deepEqual(parseFaultSpec('garbage_stamp/pole:1e6@3'), { kind: 'garbage_stamp', channel: 'pole', value: 1e6, start: 3, duration: Infinity, text: 'garbage_stamp/pole:1e6@3' });
  assert.equal(parseFaultSpec('garbage_stamp:2').channel, undefined);
  assert.deepEqual(parseFaultSpec('clock_step:-5@3'), { kind: 'clock_step', channel: undefined, value: -5, start: 3, duration: Infinity, text: 'clock_step:-5@3' });
  assert.equal(parseFaultSpec('clock_step:+2.5@1').value, 2.5);
  assert.deepEqual(parseFaultSpec('reboot:1.0@3'), { kind: 'reboot', channel: undefined, value: 1, start: 3, duration: 1, text: 'reboot:1.0@3' });
  assert.deepEqual(parseFaultSpec('flood:10000@3+1'), { kind: 'flood', channel: undefined, value: 10_000, start: 3, duration: 1, text: 'flood:10000@3+1' });
  assert.equal(parseFaultSpec('flood/cart:500@2').duration, Infinity);
  const rejected: [string, string][] = [
    ['drop:-0.1', "the probability must be a non-negative number, got '-0.1'"],
    ['reboot:-1@2', "the time without power (s) must be a non-negative number, got '-1'"],
    ['flood:-10@1+1', "the rate (readings/s) must be a non-negative number, got '-10'"],
    ['clock_step:-5@-1', "the start (s) must be a non-negative number, got '-1'"],
    ['clock_step:abc@3', "the clock step (s) must be a number, got 'abc'"],
    ['clock_step:0@3', 'a clock step of 0 s changes nothing'],
    ['clock_step/pole:5@3', 'clock_step happens to the whole robot and cannot pick a channel'],
    ['clock_step:5@3+1', 'clock_step happens once, at START, and takes no +DURATION'],
    ['reboot/cart:1@3', 'reboot happens to the whole robot and cannot pick a channel'],
    ['reboot:0@3', 'the reboot window must be longer than 0 s'],
    ['reboot:1@3+2', "reboot takes its window's length as ARG, not +DURATION"],
    ['garbage_stamp/pole:0@3', 'the stamp lead (s) must be greater than 0, got 0'],
    ['garbage_stamp:1e6@3+1', 'garbage_stamp happens once, at START, and takes no +DURATION'],
    ['flood:0@3+1', 'the rate (readings/s) must be greater than 0, got 0'],
    ['flood:100@3+0', 'the flood must last longer than 0 s'],
    ['garbagestamp:1@2', "unknown fault kind 'garbagestamp'"],
  ];
  for (const [bad, why] of rejected) {
    assert.throws(
      () => parseFaultSpec(bad),
      (e: unknown) => e instanceof MpcdError && e.code === 'FAULT_SPEC' && e.message.startsWith(`--fault ${bad}: ${why}`) && e.message.includes('expected KIND[/CHANNEL]:ARG[@START[+DURATION]]'),
      bad,
    );
  }
});

test('garbage_stamp: exactly one reading of its channel, at START, goes out LEAD s ahead; every other stamp is true', () => {
  const r = rig('garbage_stamp/pole:1e6@0.03');
  r.faults.start();
  for (let k = 0; k < 8; k++) {
    r.scheduler.schedule(() => {
      r.push(obs('cart', k / 100));
      r.push(obs('pole', k / 100));
    }, k * 10);
  }
  r.scheduler.flush();
  const pole = r.sent.filter((o) => o.channel === 'pole');
  assert.deepEqual(pole.map((o) => o.stamp), [0, 0.01, 0.02, 0.03 + 1e6, 0.04, 0.05, 0.06, 0.07]);
  assert.deepEqual(pole[3]!.values, [0.3], 'the values are the true reading');
  assert.deepEqual(r.sent.filter((o) => o.channel === 'cart').map((o) => o.stamp), [0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07]);
  assert.equal(r.faults.counts['garbage_stamp'], 1);
  assert.deepEqual(r.windows, [['garbage_stamp/pole:1e6@0.03', true], ['garbage_stamp/pole:1e6@0.03', false]]);
  // Without /CHANNEL the next reading of any channel is the one.
  const any = rig('garbage_stamp:5@0.03');
  any.faults.start();
  for (let k = 0; k < 5; k++) {
    any.scheduler.schedule(() => {
      any.push(obs('cart', k / 100));
      any.push(obs('pole', k / 100));
    }, k * 10);
  }
  any.scheduler.flush();
  assert.deepEqual(any.sent.filter((o) => o.stamp > 1).map((o) => [o.channel, o.stamp]), [['cart', 5.03]]);
});

test('clock_step: the clock error is the sum of the steps whose START passed, on the host clock after start()', () => {
  const r = rig('clock_step:-5@0.02', 'clock_step:2@0.05');
  const seen: number[] = [];
  for (let k = 0; k < 7; k++) r.scheduler.schedule(() => seen.push(r.faults.clockError()), k * 10);
  r.scheduler.flush();
  assert.deepEqual(seen, [0, 0, 0, 0, 0, 0, 0], 'scheduled steps wait for the first arm');
  r.faults.start();
  const t0 = r.scheduler.now();
  seen.length = 0;
  for (let k = 0; k < 7; k++) r.scheduler.schedule(() => seen.push(r.faults.clockError()), t0 + k * 10 - r.scheduler.now());
  r.scheduler.flush();
  assert.deepEqual(seen, [0, 0, -5, -5, -5, -3, -3]);
  assert.deepEqual(rig('clock_step:1.5').faults.clockError(), 1.5, 'unscheduled: off from boot');
});

test('flood: RATE readings per second in all, stamps advancing between the true ones and never past the newest, values interpolated', () => {
  // Two channels at 100 Hz each; flood:1000 for 0.05 s = 500 readings per channel per second.
  const r = rig('flood:1000@0.02+0.05');
  r.faults.start();
  const stamps = new Map<string, number[]>();
  for (let k = 0; k < 10; k++) {
    r.scheduler.schedule(() => {
      for (const ch of ['cart', 'pole']) {
        const before = r.sent.length;
        r.push(obs(ch, k / 100));
        const out = r.sent.slice(before);
        assert.ok(out.every((o) => o.stamp <= k / 100 + 1e-12), 'a flood reading ahead of the robot clock');
        assert.equal(out.at(-1)!.stamp, k / 100, 'the true reading goes last');
        stamps.set(ch, [...(stamps.get(ch) ?? []), ...out.map((o) => o.stamp)]);
      }
    }, k * 10);
  }
  r.scheduler.flush();
  for (const ch of ['cart', 'pole']) {
    const s = stamps.get(ch)!;
    for (let i = 1; i < s.length; i++) assert.ok(s[i]! > s[i - 1]!, `${ch} stamps do not advance at ${i}: ${s[i - 1]} then ${s[i]}`);
    // 5 readings per 10 ms in the window's 5 periods (20..60 ms), 1 before and after.
    assert.equal(s.length, 10 + 5 * 4, `${ch}: ${s.length} readings`);
  }
  const extra = r.sent.filter((o) => Math.abs(o.stamp * 100 - Math.round(o.stamp * 100)) > 1e-9);
  assert.equal(r.faults.counts['flood'], extra.length);
  for (const o of extra) assert.ok(Math.abs(o.values[0]! - o.stamp * 10) < 1e-9, 'values interpolated between the true readings');

  // /CHANNEL: the whole rate on that channel; a rate below the normal stream adds nothing.
  const one = rig('flood/pole:1000@0+1', 'flood/cart:50@0+1');
  one.faults.start();
  for (let k = 0; k < 11; k++) {
    one.scheduler.schedule(() => {
      one.push(obs('cart', k / 100));
      one.push(obs('pole', k / 100));
    }, k * 10);
  }
  one.scheduler.flush();
  assert.equal(one.sent.filter((o) => o.channel === 'pole').length, 11 + 9 * 10);
  assert.equal(one.sent.filter((o) => o.channel === 'cart').length, 11);
});

test('drop, duplicate and reorder act on messages; unscheduled faults are on before the first arm', () => {
  const drop = rig('drop:1');
  drop.run(5);
  assert.equal(drop.sent.length, 0);
  assert.equal(drop.faults.counts['drop'], 5);

  const dup = rig('duplicate:1');
  dup.run(3);
  assert.deepEqual(dup.sent.map((o) => o.stamp), [0, 0, 0.01, 0.01, 0.02, 0.02]);

  const reorder = rig('reorder:1');
  reorder.run(4);
  assert.deepEqual(reorder.sent.map((o) => o.stamp), [0.01, 0, 0.03, 0.02]);
});

test('delay holds each message back by its milliseconds, in virtual time', () => {
  const r = rig('delay:25');
  const at: number[] = [];
  r.scheduler.schedule(() => r.faults.forward(obs('pole', 1), () => at.push(r.scheduler.now())), 5);
  r.scheduler.flush();
  assert.deepEqual(at, [30]);
});

test('stop and freeze act in their window after start(), on their channel only', () => {
  const r = rig('stop/cart:0.05@0.02', 'freeze/pole:0.03@0.02');
  r.faults.start();
  r.run(8, 'pole');
  // pole frozen from 20 ms to 50 ms: the 20 ms reading repeated, stamp and all.
  assert.deepEqual(r.sent.map((o) => o.stamp), [0, 0.01, 0.02, 0.02, 0.02, 0.05, 0.06, 0.07]);
  assert.deepEqual(r.sent[3]!.values, [0.2]);
  assert.deepEqual(r.windows.filter(([s]) => s.startsWith('freeze')), [['freeze/pole:0.03@0.02', true], ['freeze/pole:0.03@0.02', false]]);
  // Before start() scheduled windows are off.
  const idle = rig('stop:1@0');
  idle.run(3);
  assert.equal(idle.sent.length, 3);
});

test('corrupt flips exactly one bit, never in the last byte (the delimiter)', () => {
  const r = rig('corrupt:1');
  for (let k = 0; k < 200; k++) {
    const frame = Uint8Array.from({ length: 12 }, (_, i) => (i * 37 + k) & 0xff);
    frame[11] = 0;
    const out = r.faults.bytesHook(frame)!;
    let bits = 0;
    for (let i = 0; i < frame.length; i++) bits += popcount(frame[i]! ^ out[i]!);
    assert.equal(bits, 1);
    assert.equal(out[11], 0);
  }
  assert.equal(r.faults.counts['corrupt'], 200);
  const clean = rig('drop:0');
  const frame = Uint8Array.of(1, 2, 3);
  assert.equal(clean.faults.bytesHook(frame), frame);
});

function popcount(v: number): number {
  let n = 0;
  for (; v; v &= v - 1) n++;
  return n;
}
