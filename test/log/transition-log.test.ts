import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { McapIndexedReader, McapStreamReader } from '@mcap/core';
import type { IReadable } from '@mcap/core';

import { MpcdError } from '../../src/core/errors.js';
import { readTransitionLog, scanTransitionLog } from '../../src/log/transition-log-reader.js';
import { TransitionLogWriter } from '../../src/log/transition-log-writer.js';
import {
  EVENT_TOPIC,
  RUN_INFO_METADATA_NAME,
  RUN_INFO_TOPIC,
  TRANSITION_TOPIC,
  transitionJsonSchema,
} from '../../src/log/transition-schema.js';
import type { Transition } from '../../src/log/transition-schema.js';
import { sampleInfo, sampleTransition } from './fixtures/sample-transitions.js';

const START_NS = 1_700_000_000_125_000_000n; // sampleInfo.start_time in nanoseconds
const dir = mkdtempSync(join(tmpdir(), 'mpcd-log-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function writeLog(path: string, transitions: readonly Transition[]): Promise<void> {
  const writer = TransitionLogWriter.open(path, sampleInfo);
  for (const tr of transitions) writer.append(tr);
  assert.equal(writer.count, transitions.length);
  await writer.close();
}

function isMpcdError(err: unknown, code: string, path: string): boolean {
  return err instanceof MpcdError && err.code === code && err.message.includes(path);
}

function fileReadable(path: string): IReadable & { close(): Promise<void> } {
  const handle = open(path, 'r');
  return {
    async size() {
      return BigInt((await (await handle).stat()).size);
    },
    async read(offset, size) {
      const buf = new Uint8Array(Number(size));
      await (await handle).read(buf, 0, buf.length, Number(offset));
      return buf;
    },
    async close() {
      await (await handle).close();
    },
  };
}

test('round trip: transitions read back identical from a complete, indexed file', async () => {
  const path = join(dir, 'nested', 'folder', 'round-trip.mcap');
  const written = Array.from({ length: 1000 }, (_, i) => sampleTransition(i));
  const withNaN = sampleTransition(1000);
  withNaN.state[2] = NaN; // JSON writes null; the reader gives NaN back
  written.push(withNaN);
  await writeLog(path, written);

  const log = readTransitionLog(path);
  assert.equal(log.torn, false);
  assert.equal(log.damage, undefined);
  assert.equal(log.bytesRead, statSync(path).size);
  assert.deepEqual(log.info, sampleInfo);
  assert.deepEqual(log.transitions, written);
  assert.deepEqual(log.events, []);

  const readable = fileReadable(path);
  try {
    const reader = await McapIndexedReader.Initialize({ readable });
    const topics = [...reader.channelsById.values()].map((c) => c.topic).sort();
    assert.deepEqual(topics, [EVENT_TOPIC, RUN_INFO_TOPIC, TRANSITION_TOPIC].sort());
    for (const schema of reader.schemasById.values()) {
      assert.equal(schema.encoding, 'jsonschema');
      JSON.parse(new TextDecoder().decode(schema.data));
    }
    const transitionChannel = [...reader.channelsById.values()].find(
      (c) => c.topic === TRANSITION_TOPIC,
    );
    assert.ok(transitionChannel);
    assert.equal(transitionChannel.messageEncoding, 'json');
    assert.equal(reader.statistics?.messageCount, BigInt(written.length + 1));
    const stats = reader.statistics;
    assert.equal(stats?.channelMessageCounts.get(transitionChannel.id), BigInt(written.length));
    assert.equal(stats?.messageStartTime, START_NS);
    assert.equal(stats?.messageEndTime, START_NS + 20_000_000_000n);
    const metadata = [];
    for await (const m of reader.readMetadata({ name: RUN_INFO_METADATA_NAME })) metadata.push(m);
    assert.equal(metadata.length, 1);
    assert.equal(metadata[0]?.metadata.get('config'), sampleInfo.config);
    assert.equal(metadata[0]?.metadata.get('state_names'), JSON.stringify(sampleInfo.state_names));
  } finally {
    await readable.close();
  }

  // Log time = start_time + t, sequence = index: check the hand-framed message records.
  const stream = new McapStreamReader();
  stream.append(readFileSync(path));
  let k = 0;
  for (let r; (r = stream.nextRecord()); ) {
    if (r.type !== 'Message' || r.channelId !== 1) continue;
    assert.equal(r.logTime, START_NS + BigInt(Math.round(k * 0.02 * 1e9)), `record ${k}`);
    assert.equal(r.publishTime, r.logTime);
    assert.equal(r.sequence, k);
    k++;
  }
  assert.equal(k, written.length);
  assert.ok(stream.done());
});

test('the JSON schema lists exactly the fields of a transition', () => {
  const keys = Object.keys(sampleTransition(0)).sort();
  assert.deepEqual(Object.keys(transitionJsonSchema.properties).sort(), keys);
  assert.deepEqual([...transitionJsonSchema.required].sort(), keys);
});

test('a file cut at any byte reads as a prefix of what was written, never throwing', async () => {
  const path = join(dir, 'small.mcap');
  const written = Array.from({ length: 6 }, (_, i) => sampleTransition(i));
  await writeLog(path, written);
  const bytes = readFileSync(path);
  const recut = join(dir, 'recut.mcap');

  // Cut the file shorter one byte at a time (truncate is cheaper than rewriting each prefix).
  let previous = written.length;
  let hadInfo = true;
  for (let n = bytes.length; n >= 0; n--) {
    truncateSync(path, n);
    const log = readTransitionLog(path);
    const k = log.transitions.length;
    assert.deepEqual(log.transitions, written.slice(0, k), `cut at ${n}`);
    assert.ok(k <= previous, `cut at ${n}: ${k} records, more than ${previous} at a longer cut`);
    assert.equal(log.torn, n < bytes.length, `cut at ${n}`);
    assert.equal(log.damage, undefined, `cut at ${n}`);
    assert.ok(log.bytesRead <= n, `cut at ${n}`);
    if (log.info !== undefined) {
      assert.ok(hadInfo, `cut at ${n}: info is back after a longer cut lost it`);
      assert.deepEqual(log.info, sampleInfo, `cut at ${n}`);
    }
    hadInfo = log.info !== undefined;
    previous = k;

    // Truncating to the valid prefix keeps the same records (sampled: file writes are slow).
    if (n % 17 === 0) {
      writeFileSync(recut, bytes.subarray(0, log.bytesRead));
      assert.equal(readTransitionLog(recut).transitions.length, k, `re-cut of ${n}`);
    }
  }
  assert.equal(previous, 0);
});

test('corrupt bytes after a valid prefix stop the read there, with a damage note', async () => {
  const path = join(dir, 'corrupt.mcap');
  const written = Array.from({ length: 20 }, (_, i) => sampleTransition(i));
  await writeLog(path, written);
  const bytes = readFileSync(path);
  // Break the JSON of record 10 (index 10) without changing any length.
  const at = bytes.toString('latin1').indexOf('"step":10,');
  assert.ok(at > 0);
  bytes.write('#', at, 'latin1');
  writeFileSync(path, bytes);

  const log = readTransitionLog(path);
  assert.deepEqual(log.transitions, written.slice(0, 10));
  assert.equal(log.torn, true);
  assert.match(log.damage ?? '', /corrupt\.mcap.*not a JSON object/);
  writeFileSync(path, bytes.subarray(0, log.bytesRead));
  assert.equal(readTransitionLog(path).transitions.length, 10);
});

test('a zero-filled tail, as a power loss can leave, reads as torn at the last record', () => {
  const path = join(dir, 'zero-tail.mcap');
  const writer = TransitionLogWriter.open(path, sampleInfo);
  for (let i = 0; i < 5; i++) writer.append(sampleTransition(i));
  const valid = writer.bytesWritten;
  // The writer is never closed: this is the file a dead writer leaves, plus zeros.
  writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.alloc(4099)]));
  const log = readTransitionLog(path);
  assert.equal(log.transitions.length, 5);
  assert.equal(log.torn, true);
  assert.equal(log.damage, undefined);
  assert.equal(log.bytesRead, valid);
});

const killTest = { timeout: 60_000 };
test('kill -9 while appending loses at most the record being written', killTest, async () => {
  const path = join(dir, 'killed.mcap');
  const fixture = fileURLToPath(new URL('./fixtures/sigkill-writer.js', import.meta.url));
  const child = spawn(process.execPath, [fixture, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  const target = 5000;
  let lastReported = 0;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));

  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  // Timeout guard: a writer that never gets going is killed too, and the test fails on the count.
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let buffered = '';
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const n = Number(line);
      if (Number.isInteger(n) && n > lastReported) lastReported = n;
    }
    if (lastReported >= target) child.kill('SIGKILL');
  });
  const { signal } = await exit;
  clearTimeout(guard);

  assert.equal(signal, 'SIGKILL', `writer exited on its own: ${stderr}`);
  assert.ok(lastReported >= target, `writer reported only ${lastReported} records: ${stderr}`);
  const seen = { n: 0 };
  const scan = scanTransitionLog(path, (tr) => {
    assert.deepEqual(tr, sampleTransition(seen.n), `record ${seen.n}`);
    seen.n++;
  });
  assert.ok(scan.count >= lastReported, `${scan.count} records on disk, ${lastReported} reported`);
  assert.equal(scan.count, seen.n);
  assert.equal(scan.torn, true);
  assert.equal(scan.damage, undefined);
  assert.deepEqual(scan.info, sampleInfo);
});

test('a file that is not MCAP gives an MpcdError that names it', () => {
  const path = join(dir, 'not-a-log.mcap');
  writeFileSync(path, 'plant:\n  kind: sim\n');
  assert.throws(
    () => readTransitionLog(path),
    (err: unknown) => isMpcdError(err, 'LOG_NOT_MCAP', path),
  );
  const missing = join(dir, 'missing.mcap');
  assert.throws(
    () => readTransitionLog(missing),
    (err: unknown) => isMpcdError(err, 'LOG_READ', missing),
  );
});

test('open refuses to clobber an existing log; append after close is an error', async () => {
  const path = join(dir, 'existing.mcap');
  await writeLog(path, [sampleTransition(0)]);
  assert.throws(
    () => TransitionLogWriter.open(path, sampleInfo),
    (err: unknown) => isMpcdError(err, 'LOG_OPEN', path),
  );
  const writer = TransitionLogWriter.open(path, sampleInfo, { overwrite: true });
  writer.append(sampleTransition(0));
  await writer.close();
  await writer.close(); // idempotent
  assert.throws(
    () => writer.append(sampleTransition(1)),
    (err: unknown) => isMpcdError(err, 'LOG_CLOSED', path),
  );
  assert.equal(readTransitionLog(path).transitions.length, 1);
});
