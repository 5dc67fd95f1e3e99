import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { MessageReader } from '../../../src/io/serial/message-reader.js';
import { MAX_SOURCE_BYTES, serialMessageSchema, type DropReason, type SerialMessage } from '../../../src/io/serial/messages.js';
import { wireFormat, type Framing } from '../../../src/io/serial/wire-format.js';

/**
 * Properties every decoder must have (COBS+CRC binary and NDJSON alike): it never throws, its
 * buffer never passes its limit, every frame ends as one message or one counted drop, every
 * intact frame in a stream decodes whatever surrounds it, and a damaged frame is either dropped
 * or (if the damage happens to pass the checks) decodes to a well-formed message.
 * Seeded for reproducibility; FC_SEED=<n> explores other streams.
 */
const params = { seed: Number(process.env['FC_SEED'] ?? 20240611), numRuns: 250 };
const FRAMINGS: readonly Framing[] = ['cobs', 'ndjson'];

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const stamp = fc.integer({ min: 0, max: 2 ** 32 * 1e6 }).map((us) => us / 1e6); // whole µs: exact through both codecs
const f32 = fc.float({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x)); // JSON has no -0
const values = fc.array(f32, { maxLength: 32 });
const header = { session: u32, seq: u32, stamp };
const message: fc.Arbitrary<SerialMessage> = fc.oneof(
  fc.record({ type: fc.constant('state' as const), ...header, channel: fc.integer({ min: 0, max: 255 }), values }),
  fc.record({ type: fc.constant('command' as const), ...header, ttl: fc.integer({ min: 1, max: 0xffffffff }).map((us) => us / 1e6), u: values }),
  fc.record({ type: fc.constantFrom('heartbeat' as const, 'arm' as const, 'disarm' as const), ...header }),
  fc.record({
    type: fc.constant('estop' as const),
    ...header,
    source: fc.string({ unit: 'grapheme', maxLength: 8 }).filter((s) => Buffer.byteLength(s) <= MAX_SOURCE_BYTES),
  }),
).map((m) => ({ ...m }) as SerialMessage); // fc.record builds null-prototype objects; decoders build plain ones

/** A change to one frame's body (its delimiter stays, so the damage cannot spill into the next frame). */
type Mutation = { kind: 'flip'; at: number; bit: number } | { kind: 'set'; at: number; byte: number } | { kind: 'insert'; at: number; bytes: number[] } | { kind: 'delete'; at: number; n: number } | { kind: 'truncate'; at: number };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 600 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(frame: Uint8Array, m: Mutation): Uint8Array {
  const body = Array.from(frame.subarray(0, frame.length - 1));
  const at = m.at % Math.max(1, body.length);
  switch (m.kind) {
    case 'flip':
      body[at] = body[at]! ^ (1 << m.bit);
      break;
    case 'set':
      body[at] = m.byte;
      break;
    case 'insert':
      body.splice(at, 0, ...m.bytes);
      break;
    case 'delete':
      body.splice(at, m.n);
      break;
    case 'truncate':
      body.length = at;
      break;
  }
  return Uint8Array.from([...body, frame[frame.length - 1]!]);
}

/** Feeds `bytes` cut at `cuts`; returns what came out and checks the buffer bound after every chunk. */
function feed(framing: Framing, bytes: Uint8Array, cuts: readonly number[]) {
  const format = wireFormat(framing);
  const msgs: SerialMessage[] = [];
  const drops: DropReason[] = [];
  const reader = new MessageReader(format, (m) => msgs.push(m), (r) => drops.push(r));
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, bytes.length]) {
    reader.push(bytes.subarray(from, to));
    from = to;
    assert.ok(reader.frames.bufferedBytes <= format.maxFrameBytes, `buffer ${reader.frames.bufferedBytes} > ${format.maxFrameBytes}`);
  }
  // One outcome per frame: a message or a drop.
  assert.equal(msgs.length + drops.length, reader.frames.frames + reader.frames.oversize);
  return { msgs, drops };
}

function wellFormed(msg: SerialMessage): void {
  const r = serialMessageSchema.safeParse(msg);
  assert.ok(r.success, `malformed message out of the decoder: ${JSON.stringify(msg)}`);
}

for (const framing of FRAMINGS) {
  test(`${framing}: random bytes never throw and never grow the buffer past its limit`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4000 }), fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
        const { msgs } = feed(framing, bytes, cuts);
        msgs.forEach(wellFormed);
      }),
      params,
    );
  });

  test(`${framing}: random bytes biased to the delimiter never throw and stay bounded`, () => {
    const delimiterHeavy = fc.array(fc.oneof(fc.constant(wireFormat(framing).delimiter), fc.integer({ min: 0, max: 255 })), { maxLength: 3000 });
    fc.assert(
      fc.property(delimiterHeavy, fc.array(fc.nat(), { maxLength: 20 }), (arr, cuts) => {
        feed(framing, Uint8Array.from(arr), cuts).msgs.forEach(wellFormed);
      }),
      params,
    );
  });

  test(`${framing}: every valid frame decodes to its message, however the stream is cut`, () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (messages, cuts) => {
        const format = wireFormat(framing);
        const { msgs, drops } = feed(framing, Buffer.concat(messages.map((m) => format.encode(m))), cuts);
        assert.deepEqual(drops, []);
        assert.deepEqual(msgs, messages);
      }),
      params,
    );
  });

  test(`${framing}: mutated frames are dropped or well-formed, and every intact frame still decodes`, () => {
    const item = fc.record({ msg: message, damage: fc.option(fc.array(mutation, { minLength: 1, maxLength: 3 }), { freq: 2 }), garbage: fc.option(fc.uint8Array({ maxLength: 40 }), { freq: 4 }) });
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (items, cuts) => {
        const format = wireFormat(framing);
        const parts: Uint8Array[] = [];
        const intact: SerialMessage[] = [];
        for (const it of items) {
          // Garbage is closed by a delimiter so that it cannot merge into the next frame.
          if (it.garbage !== null) parts.push(it.garbage, Uint8Array.of(format.delimiter));
          let frame = format.encode(it.msg);
          if (it.damage === null) intact.push(it.msg);
          else for (const m of it.damage) frame = mutate(frame, m);
          parts.push(frame);
        }
        const { msgs } = feed(framing, Buffer.concat(parts), cuts);
        msgs.forEach(wellFormed);
        // The intact messages appear in order among the output (damage may add well-formed extras, never remove one).
        let next = 0;
        for (const m of msgs) if (next < intact.length && isDeepStrictEqual(m, intact[next])) next++;
        assert.equal(next, intact.length, `only ${next} of ${intact.length} intact frames decoded`);
      }),
      params,
    );
  });
}
