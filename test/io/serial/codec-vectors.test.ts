import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBinaryFrame, encodeBinaryFrame } from '../../../src/io/serial/binary-codec.js';
import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from '../../../src/io/serial/cobs.js';
import { crc16, CRC16_CHECK_VALUE } from '../../../src/io/serial/crc16.js';
import { decodeNdjsonFrame, encodeNdjsonFrame } from '../../../src/io/serial/ndjson-codec.js';
import { MpcdError } from '../../../src/core/errors.js';
import { body, fromHex, loadVectors, toHex } from './vectors.js';

const v = loadVectors();
const utf8 = (s: string) => new TextEncoder().encode(s);

test('CRC-16/CCITT-FALSE matches the check value and every vector', () => {
  assert.equal(crc16(utf8('123456789')), CRC16_CHECK_VALUE);
  assert.equal(CRC16_CHECK_VALUE, 0x29b1);
  assert.ok(v.crc16.cases.length >= 5);
  for (const c of v.crc16.cases) {
    const bytes = c.ascii !== undefined ? utf8(c.ascii) : fromHex(c.hex!);
    assert.equal(crc16(bytes).toString(16).padStart(4, '0'), c.crc, JSON.stringify(c));
  }
});

test('COBS encodes and decodes every vector, edge cases included', () => {
  for (const c of v.cobs) {
    const decoded = fromHex(c.decoded);
    const encoded = cobsEncode(decoded);
    assert.equal(toHex(encoded), c.encoded, `encode ${c.name}`);
    assert.ok(!encoded.includes(0), `no zero in ${c.name}`);
    assert.ok(encoded.length <= cobsMaxEncodedLength(decoded.length), `length bound ${c.name}`);
    assert.equal(toHex(cobsDecode(fromHex(c.encoded))!), c.decoded, `decode ${c.name}`);
  }
});

test('COBS refuses frames with a zero inside or a block past the end', () => {
  assert.equal(cobsDecode(fromHex('0311002233')), null);
  assert.equal(cobsDecode(fromHex('051122')), null);
  assert.equal(cobsDecode(new Uint8Array(0)), null);
});

test('binary codec: every message vector encodes to its frame and decodes back', () => {
  for (const m of v.messages) {
    assert.equal(toHex(encodeBinaryFrame(m.message)), m.cobs, `encode ${m.name}`);
    const frame = fromHex(m.cobs);
    assert.equal(frame[frame.length - 1], 0, 'frames end in the delimiter');
    assert.deepEqual(decodeBinaryFrame(body(frame)), { ok: true, msg: m.message }, `decode ${m.name}`);
  }
});

test('NDJSON codec: every message vector encodes to its line and decodes back', () => {
  for (const m of v.messages) {
    assert.equal(new TextDecoder().decode(encodeNdjsonFrame(m.message)), m.ndjson, `encode ${m.name}`);
    assert.deepEqual(decodeNdjsonFrame(utf8(m.ndjson.slice(0, -1))), { ok: true, msg: m.message }, `decode ${m.name}`);
  }
});

test('invalid binary frames are refused with the documented reason', () => {
  assert.ok(v.invalid.cobs.length >= 6);
  for (const c of v.invalid.cobs) assert.deepEqual(decodeBinaryFrame(body(fromHex(c.frame))), { ok: false, reason: c.reason }, c.name);
});

test('invalid NDJSON lines are refused with the documented reason', () => {
  for (const c of v.invalid.ndjson) assert.deepEqual(decodeNdjsonFrame(utf8(c.line.replace(/\n$/, ''))), { ok: false, reason: c.reason }, c.name);
  assert.deepEqual(decodeNdjsonFrame(Uint8Array.from([0xff, 0xfe])), { ok: false, reason: 'json' }, 'bad UTF-8');
});

test('encoders refuse what the wire cannot carry, with an MpcdError', () => {
  const bad = [
    { type: 'state', session: 1, seq: 1, stamp: 1, channel: 0, values: [Number.NaN] },
    { type: 'state', session: 1, seq: 1, stamp: 1, channel: 0, values: [1e39] },
    { type: 'state', session: 1, seq: 1, stamp: 1, channel: 0, values: new Array(33).fill(0) },
    { type: 'command', session: 1, seq: 2 ** 32, stamp: 1, ttl: 0.1, u: [0] },
    { type: 'command', session: 1, seq: 1, stamp: -1, ttl: 0.1, u: [0] },
    { type: 'command', session: 1, seq: 1, stamp: 1, ttl: 0, u: [0] },
    { type: 'estop', session: 1, seq: 1, stamp: 1, source: 'x'.repeat(33) },
  ] as const;
  for (const msg of bad) {
    assert.throws(() => encodeBinaryFrame(msg as never), (e) => e instanceof MpcdError && e.code === 'SERIAL_ENCODE', JSON.stringify(msg));
  }
  for (const msg of bad.filter((m) => !(m.type === 'state' && m.values[0] === 1e39))) {
    assert.throws(() => encodeNdjsonFrame(msg as never), (e) => e instanceof MpcdError && e.code === 'SERIAL_ENCODE', JSON.stringify(msg));
  }
});

test('unchecked encoding (the virtual robot\'s faults) puts a NaN on the wire, and the decoders drop it', () => {
  const msg = { type: 'state', session: 1, seq: 1, stamp: 1, channel: 0, values: [Number.NaN, 1] } as const;
  const frame = encodeBinaryFrame({ ...msg, values: [...msg.values] }, true);
  assert.deepEqual(decodeBinaryFrame(body(frame)), { ok: false, reason: 'bad_value' });
  const line = encodeNdjsonFrame({ ...msg, values: [...msg.values] }, true);
  assert.deepEqual(decodeNdjsonFrame(body(line)), { ok: false, reason: 'schema' });
});
