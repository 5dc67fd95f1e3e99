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
