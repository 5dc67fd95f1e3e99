import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { McapStreamReader, McapWriter } from '@mcap/core';
import type { IWritable } from '@mcap/core';

import { readTransitionLog, scanTransitionLog } from '../../src/log/transition-log-reader.js';
import { TransitionLogWriter } from '../../src/log/transition-log-writer.js';
import {
  EVENT_TOPIC,
  RUN_INFO_TOPIC,
  TRANSITION_TOPIC,
  eventJsonSchema,
  runInfoJsonSchema,
  transitionJsonSchema,
} from '../../src/log/transition-schema.js';
import type { LogEvent, Transition } from '../../src/log/transition-schema.js';
import { sampleInfo, sampleTransition } from './fixtures/sample-transitions.js';

const START_NS = 1_700_000_000_125_000_000n; // sampleInfo.start_time in nanoseconds
const dir = mkdtempSync(join(tmpdir(), 'mpcd-log-events-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const events: LogEvent[] = [
  { t: 0.05, kind: 'clock_step', detail: { step_s: -0.4, channel: 'imu' } },
  { t: 0.31, kind: 'robot_restart', detail: { sequence_from: 1203, sequence_to: 0 } },
  { t: 0.31, kind: 'clock_step', detail: {} },
];

/** 20 transitions with the events interleaved by time; what went where, in file order. */
async function writeMixed(path: string): Promise<{ order: string[]; transitions: Transition[] }> {
  const writer = TransitionLogWriter.open(path, sampleInfo);
  const order: string[] = [];
  const transitions: Transition[] = [];
  let e = 0;
  for (let i = 0; i < 20; i++) {
    const tr = sampleTransition(i);
    while (e < events.length && events[e]!.t <= tr.t) {
      writer.appendEvent(events[e]!);
      order.push(`e${e++}`);
    }
    writer.append(tr);
    transitions.push(tr);
    order.push(`t${i}`);
  }
  assert.equal(writer.eventCount, events.length);
  await writer.close();
  return { order, transitions };
}

test('events read back in file order, next to the transitions, from readTransitionLog and scanTransitionLog', async () => {
  const path = join(dir, 'mixed.mcap');
  const { order, transitions } = await writeMixed(path);
  const log = readTransitionLog(path);
  assert.equal(log.torn, false);
  assert.deepEqual(log.transitions, transitions);
  assert.deepEqual(log.events, events);

  const seen: string[] = [];
  let t = 0;
  let e = 0;
  const scan = scanTransitionLog(
    path,
    () => void seen.push(`t${t++}`),
    (ev) => {
      assert.deepEqual(ev, events[e]);
      seen.push(`e${e++}`);
    },
  );
  assert.deepEqual(seen, order);
  assert.equal(scan.count, 20);
  assert.equal(scan.eventCount, events.length);
  // Without the callback the events are still counted, and the transitions are unchanged.
  assert.equal(scanTransitionLog(path, () => {}).eventCount, events.length);

  // Log time = start_time + t, sequence 0, 1, 2 on the events channel.
  const stream = new McapStreamReader();
  stream.append(readFileSync(path));
  const channels = new Map<number, string>();
  let k = 0;
  for (let r; (r = stream.nextRecord()); ) {
    if (r.type === 'Channel') channels.set(r.id, r.topic);
    if (r.type === 'Statistics') {
      const id = [...channels].find(([, topic]) => topic === EVENT_TOPIC)?.[0];
      assert.equal(r.channelMessageCounts.get(id!), BigInt(events.length));
      assert.equal(r.messageCount, BigInt(20 + events.length + 1));
    }
    if (r.type !== 'Message' || channels.get(r.channelId) !== EVENT_TOPIC) continue;
    assert.equal(r.logTime, START_NS + BigInt(Math.round(events[k]!.t * 1e9)));
    assert.equal(r.sequence, k++);
  }
  assert.equal(k, events.length);
});

test('a file cut after an event keeps it; a cut inside it drops it as a torn tail', async () => {
  const path = join(dir, 'cut.mcap');
  await writeMixed(path);
  const bytes = readFileSync(path);
  const at = bytes.toString('latin1').indexOf('"kind":"robot_restart"');
  assert.ok(at > 0);
  truncateSync(path, at);
  const cut = readTransitionLog(path);
  assert.equal(cut.torn, true);
  assert.equal(cut.damage, undefined);
  assert.deepEqual(cut.events, events.slice(0, 1));
  assert.ok(cut.transitions.every((tr) => tr.t < events[1]!.t));
});

test('a non-finite t and a detail JSON cannot hold are written, not thrown', async () => {
  const path = join(dir, 'odd.mcap');
  const writer = TransitionLogWriter.open(path, sampleInfo);
  writer.appendEvent({ t: NaN, kind: 'clock_step', detail: { big: 1n } });
  await writer.close();
  const [ev] = readTransitionLog(path).events;
  assert.ok(ev);
  assert.ok(Number.isNaN(ev.t));
  assert.equal(ev.kind, 'clock_step');
  assert.equal(typeof ev.detail['unserializable'], 'string');
});

test('the events JSON schema lists exactly the fields of an event', () => {
  const keys = Object.keys(events[0]!).sort();
  assert.deepEqual(Object.keys(eventJsonSchema.properties).sort(), keys);
  assert.deepEqual([...eventJsonSchema.required].sort(), keys);
});

/** A log as written before the events channel existed: two channels, run_info and transitions. */
async function writeOldLog(path: string, transitions: readonly Transition[]): Promise<void> {
  const chunks: Uint8Array[] = [];
  let position = 0n;
  const writable: IWritable = {
    position: () => position,
    write: async (buffer) => {
      chunks.push(buffer.slice());
      position += BigInt(buffer.length);
    },
  };
  const enc = new TextEncoder();
  const w = new McapWriter({ writable, useChunks: false });
  await w.start({ profile: '', library: 'mpcd before /mpcd/events' });
  const schema = (name: string, s: object) => w.registerSchema({ name, encoding: 'jsonschema', data: enc.encode(JSON.stringify(s)) });
  const trSchema = await schema('mpcd.Transition', transitionJsonSchema);
  const infoSchema = await schema('mpcd.RunInfo', runInfoJsonSchema);
  const tr = await w.registerChannel({ schemaId: trSchema, topic: TRANSITION_TOPIC, messageEncoding: 'json', metadata: new Map() });
  const info = await w.registerChannel({ schemaId: infoSchema, topic: RUN_INFO_TOPIC, messageEncoding: 'json', metadata: new Map() });
  await w.addMessage({ channelId: info, sequence: 0, logTime: START_NS, publishTime: START_NS, data: enc.encode(JSON.stringify(sampleInfo)) });
  for (const [i, t] of transitions.entries()) {
    await w.addMessage({ channelId: tr, sequence: i, logTime: START_NS, publishTime: START_NS, data: enc.encode(JSON.stringify(t)) });
  }
  await w.end();
  writeFileSync(path, Buffer.concat(chunks));
}

test('old logs, without the events channel, still read: no events, every transition', async () => {
  const path = join(dir, 'old.mcap');
  const written = Array.from({ length: 12 }, (_, i) => sampleTransition(i));
  await writeOldLog(path, written);
  const log = readTransitionLog(path);
  assert.equal(log.torn, false);
  assert.equal(log.damage, undefined);
  assert.deepEqual(log.info, sampleInfo);
  assert.deepEqual(log.transitions, written);
  assert.deepEqual(log.events, []);
  let calls = 0;
  const scan = scanTransitionLog(path, () => {}, () => void calls++);
  assert.equal(scan.eventCount, 0);
  assert.equal(calls, 0);
});
