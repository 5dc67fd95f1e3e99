import { MpcdError } from '../../core/errors.js';
import { cobsDecodeInto, cobsEncodeInto, cobsMaxEncodedLength } from './cobs.js';
import { crc16 } from './crc16.js';
import { describeInvalid, MAX_SOURCE_BYTES, MAX_STAMP_S, MAX_VALUES, toMicros, type DecodeResult, type SerialMessage, type SerialMessageType } from './messages.js';

/**
 * The binary framing: COBS( payload ‖ CRC-16/CCITT-FALSE(payload), little-endian ) ‖ 0x00.
 * Payload, little-endian throughout (hardware/protocol.md has the byte tables):
 *
 *   0  type     u8    0x01 STATE, 0x02 COMMAND, 0x03 HEARTBEAT, 0x04 ARM, 0x05 DISARM, 0x06 ESTOP
 *   1  session  u32
 *   5  seq      u32
 *   9  stamp    u64   sender's monotonic clock, µs
 *   17 body:
 *      STATE    channel u8, count u8, values f32[count]   (19 + 4·count bytes)
 *      COMMAND  ttl u32 µs, count u8, u f32[count]         (22 + 4·count bytes)
 *      ESTOP    length u8, source UTF-8[length]            (18 + length bytes)
 *      others   nothing                                    (17 bytes)
 */

export const TYPE_CODES: Readonly<Record<SerialMessageType, number>> = {
  state: 0x01,
  command: 0x02,
  heartbeat: 0x03,
  arm: 0x04,
  disarm: 0x05,
  estop: 0x06,
};
const TYPES_BY_CODE: readonly (SerialMessageType | undefined)[] = (() => {
  const t: (SerialMessageType | undefined)[] = new Array(256).fill(undefined);
  for (const [name, code] of Object.entries(TYPE_CODES)) t[code] = name as SerialMessageType;
  return t;
})();

export const HEADER_BYTES = 17;
const MAX_STAMP_MICROS = BigInt(MAX_STAMP_S) * 1_000_000n;
/** The largest payload: a COMMAND with MAX_VALUES values. */
export const MAX_PAYLOAD_BYTES = 22 + 4 * MAX_VALUES;
/** The largest frame between delimiters (COBS of payload + CRC); receivers may allow more. */
export const MAX_COBS_FRAME_BYTES = cobsMaxEncodedLength(MAX_PAYLOAD_BYTES + 2);
/** The frame decoder limit daemon and virtual robot use: headroom over the largest valid frame. */
export const BINARY_FRAME_LIMIT = 256;

// One scratch buffer per module for decoding: decoding is synchronous and JS is single-threaded
// (a worker gets its own module instance), so a frame never allocates here but for its message.
const scratch = new Uint8Array(BINARY_FRAME_LIMIT * 2);
const scratchView = new DataView(scratch.buffer);
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * Encodes one message as a complete frame, delimiter included. Throws MpcdError SERIAL_ENCODE
 * if the wire cannot carry it, unless `unchecked` (for the virtual robot, which must be able to
 * send what a faulty robot would: a NaN goes out as float32 NaN, for the receiver to drop).
 */
export function encodeBinaryFrame(msg: SerialMessage, unchecked = false): Uint8Array {
  const invalid = unchecked ? null : describeInvalid(msg);
  if (invalid !== null) throw new MpcdError('SERIAL_ENCODE', `cannot encode this ${msg.type} message for the serial wire: ${invalid}`);
  const floats = msg.type === 'state' ? msg.values : msg.type === 'command' ? msg.u : [];
  if (!unchecked && floats.some((v) => !Number.isFinite(Math.fround(v)))) {
    throw new MpcdError('SERIAL_ENCODE', `cannot encode this ${msg.type} message: a value is outside the float32 range`);
  }
  const source = msg.type === 'estop' ? utf8Encoder.encode(msg.source) : undefined;
  const length =
    msg.type === 'state' ? 19 + 4 * msg.values.length : msg.type === 'command' ? 22 + 4 * msg.u.length : msg.type === 'estop' ? 18 + source!.length : HEADER_BYTES;
  const payload = new Uint8Array(length + 2);
  const view = new DataView(payload.buffer);
  view.setUint8(0, TYPE_CODES[msg.type]);
  view.setUint32(1, msg.session, true);
  view.setUint32(5, msg.seq, true);
  const micros = toMicros(msg.stamp);
  view.setBigUint64(9, BigInt(Number.isSafeInteger(micros) && micros >= 0 ? micros : 0), true); // only `unchecked` can get here with a bad one
  switch (msg.type) {
    case 'state':
      view.setUint8(17, msg.channel);
      writeFloats(view, 18, msg.values);
      break;
    case 'command':
      view.setUint32(17, toMicros(msg.ttl), true);
      writeFloats(view, 21, msg.u);
      break;
    case 'estop':
      view.setUint8(17, source!.length);
      payload.set(source!, 18);
      break;
    default:
      break;
  }
  view.setUint16(length, crc16(payload, 0, length), true);
  const frame = new Uint8Array(cobsMaxEncodedLength(length + 2) + 1);
  const n = cobsEncodeInto(payload, length + 2, frame);
  frame[n] = 0x00;
  return frame.subarray(0, n + 1);
}

/** count u8 then count f32 at `at`. */
function writeFloats(view: DataView, at: number, values: readonly number[]): void {
  view.setUint8(at, values.length);
  for (let i = 0; i < values.length; i++) view.setFloat32(at + 1 + 4 * i, values[i]!, true);
}

/**
 * Decodes one frame (the bytes between two 0x00 delimiters, neither included). Never throws:
 * anything malformed comes back as `{ ok: false, reason }`.
 */
export function decodeBinaryFrame(frame: Uint8Array): DecodeResult {
  if (frame.length > BINARY_FRAME_LIMIT * 2) return { ok: false, reason: 'oversize' };
  const n = cobsDecodeInto(frame, frame.length, scratch);
  if (n < 0) return { ok: false, reason: 'cobs' };
  if (n < HEADER_BYTES + 2) return { ok: false, reason: 'too_short' };
  const length = n - 2;
  if (scratchView.getUint16(length, true) !== crc16(scratch, 0, length)) return { ok: false, reason: 'crc' };
  const type = TYPES_BY_CODE[scratch[0]!];
  if (type === undefined) return { ok: false, reason: 'unknown_type' };
  const session = scratchView.getUint32(1, true);
  const seq = scratchView.getUint32(5, true);
  const stampMicros = scratchView.getBigUint64(9, true);
  if (stampMicros > MAX_STAMP_MICROS) return { ok: false, reason: 'bad_value' };
  const header = { session, seq, stamp: Number(stampMicros) / 1e6 };
  switch (type) {
    case 'state': {
      if (length < 19) return { ok: false, reason: 'bad_length' };
      const values = readFloats(18, length);
      if (typeof values === 'string') return { ok: false, reason: values };
      return { ok: true, msg: { type, ...header, channel: scratch[17]!, values } };
    }
    case 'command': {
      if (length < 22) return { ok: false, reason: 'bad_length' };
      const ttlMicros = scratchView.getUint32(17, true);
      if (ttlMicros === 0) return { ok: false, reason: 'bad_value' };
      const u = readFloats(21, length);
      if (typeof u === 'string') return { ok: false, reason: u };
      return { ok: true, msg: { type, ...header, ttl: ttlMicros / 1e6, u } };
    }
    case 'estop': {
      if (length < 18 || length !== 18 + scratch[17]!) return { ok: false, reason: 'bad_length' };
      if (scratch[17]! > MAX_SOURCE_BYTES) return { ok: false, reason: 'bad_value' };
      let source: string;
      try {
        source = utf8.decode(scratch.subarray(18, length));
      } catch {
        return { ok: false, reason: 'bad_value' };
      }
      return { ok: true, msg: { type, ...header, source } };
    }
    default:
      if (length !== HEADER_BYTES) return { ok: false, reason: 'bad_length' };
      return { ok: true, msg: { type, ...header } };
  }
}

/** Reads count u8 at `at` and the floats after it, which must end exactly at `length`. */
function readFloats(at: number, length: number): number[] | 'bad_length' | 'bad_value' {
  const count = scratch[at]!;
  if (length !== at + 1 + 4 * count) return 'bad_length';
  if (count > MAX_VALUES) return 'bad_value';
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const v = scratchView.getFloat32(at + 1 + 4 * i, true);
    if (!Number.isFinite(v)) return 'bad_value';
    out[i] = v;
  }
  return out;
}
