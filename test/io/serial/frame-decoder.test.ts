import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeBinaryFrame } from '../../../src/io/serial/binary-codec.js';
import { FrameDecoder } from '../../../src/io/serial/frame-decoder.js';
import { MessageReader } from '../../../src/io/serial/message-reader.js';
import type { DropReason, SerialMessage } from '../../../src/io/serial/messages.js';
import { wireFormat } from '../../../src/io/serial/wire-format.js';
import { Rng } from '../../../src/core/rng.js';
import { fromHex, loadVectors } from './vectors.js';

const v = loadVectors();

function collect(d: FrameDecoder, chunks: readonly Uint8Array[]): string[] {
  const out: string[] = [];
  for (const c of chunks) d.push(c, (f) => out.push(Buffer.from(f).toString('hex')));
  return out;
}

/** Splits bytes at random cut points (seeded). */
function chop(bytes: Uint8Array, rng: Rng, maxChunk: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + (rng.nextU32() % maxChunk);
    chunks.push(bytes.subarray(i, i + n));
    i += n;
  }
  return chunks;
}

test('frames come out whole whatever the chunk boundaries', () => {
  const stream = Buffer.concat(v.messages.map((m) => fromHex(m.cobs)));
  const expected = v.messages.map((m) => m.cobs.slice(0, -2));
  const rng = new Rng(7);
  for (const maxChunk of [1, 2, 3, 7, 31, 1000]) {
    for (let rep = 0; rep < 20; rep++) {
      const d = new FrameDecoder({ delimiter: 0, maxFrameBytes: 256 });
      assert.deepEqual(collect(d, chop(stream, rng, maxChunk)), expected, `maxChunk ${maxChunk}`);
      assert.equal(d.bufferedBytes, 0);
    }
  }
});

test('garbage between frames costs only the garbage: every valid message still decodes', () => {
  const msgs: SerialMessage[] = [];
  const drops: DropReason[] = [];
  const reader = new MessageReader(wireFormat('cobs'), (m) => msgs.push(m), (r) => drops.push(r));
  const garbage = [fromHex('00000000'), fromHex('deadbeef00'), fromHex('0102030400'), fromHex('ffffffff')];
  const parts: Uint8Array[] = [];
  v.messages.forEach((m, i) => {
    parts.push(garbage[i % garbage.length]!);
    // After unterminated garbage the next frame merges with it; a leading 0x00 resyncs, as senders may do.
    parts.push(Uint8Array.of(0), fromHex(m.cobs));
  });
  reader.push(Buffer.concat(parts));
  assert.deepEqual(msgs, v.messages.map((m) => m.message));
  assert.ok(drops.length >= 3, `garbage frames dropped: ${drops.join(',')}`);
});

test('an over-long frame is dropped and counted, the buffer never grows, and decoding resumes', () => {
  const d = new FrameDecoder({ delimiter: 0x0a, maxFrameBytes: 16 });
  let oversize = 0;
  const frames: string[] = [];
  const push = (s: string) => d.push(new TextEncoder().encode(s), (f) => frames.push(new TextDecoder().decode(f)), () => oversize++);
  push('short\n');
  for (let i = 0; i < 100; i++) {
    push('0123456789');
    assert.ok(d.bufferedBytes <= 16);
  }
  push('tail-of-long\nafter\n');
  push('exactly-16-bytes\n');
  push('seventeen-bytes!!\n');
  assert.deepEqual(frames, ['short', 'after', 'exactly-16-bytes']);
  assert.equal(oversize, 2);
  assert.equal(d.oversize, 2);
  assert.equal(d.frames, 3);
});

test('empty frames are skipped and reset() drops a partial frame', () => {
  const d = new FrameDecoder({ delimiter: 0, maxFrameBytes: 8 });
  const frames = collect(d, [fromHex('000000'), fromHex('0102')]);
  assert.deepEqual(frames, []);
  assert.equal(d.bufferedBytes, 2);
  d.reset();
  assert.deepEqual(collect(d, [fromHex('030400')]), ['0304']);
});

test('a frame reaches the codec once: MessageReader ends each frame in one message or one drop', () => {
  const msgs: SerialMessage[] = [];
  const drops: DropReason[] = [];
  const reader = new MessageReader(wireFormat('ndjson'), (m) => msgs.push(m), (r) => drops.push(r));
  const lines = ['{"type":"heartbeat","session":1,"seq":1,"stamp":0.5}', 'nope', '{"type":"arm","session":1,"seq":2,"stamp":0.6}\r', 'x'.repeat(3000)];
  reader.push(new TextEncoder().encode(`${lines.join('\n')}\n`));
  assert.deepEqual(msgs.map((m) => m.type), ['heartbeat', 'arm']);
  assert.deepEqual(drops, ['json', 'oversize']);
  // The binary encoder's largest frame fits the binary limit.
  const big = encodeBinaryFrame({ type: 'command', session: 1, seq: 1, stamp: 1, ttl: 1, u: new Array(32).fill(1.5) });
  assert.ok(big.length - 1 <= wireFormat('cobs').maxFrameBytes);
});
