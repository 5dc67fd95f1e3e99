import { MpcdError } from '../../core/errors.js';
import { describeInvalid, serialMessageSchema, toMicros, type DecodeResult, type SerialMessage } from './messages.js';

/**
 * The NDJSON framing: one message per line, UTF-8 JSON, '\n'-terminated, the same fields as
 * SerialMessage with times in seconds (rounded to the microsecond, as on the binary wire).
 * Readable with `cat /dev/mpcd-robot`, writable by hand; no CRC, so use it to bring up a robot
 * and the binary framing to run one. Values are doubles here, float32 on the binary wire.
 *
 *   {"type":"state","session":7,"seq":12,"stamp":1.25,"channel":0,"values":[0.5,-1]}
 */

/** The frame decoder limit for a line, '\n' excluded: a COMMAND or STATE with 32 long doubles fits. */
export const NDJSON_LINE_LIMIT = 2048;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes one message as a line, '\n' included. Throws MpcdError SERIAL_ENCODE if the wire
 * cannot carry it, unless `unchecked` (the virtual robot's faults: a NaN goes out as null).
 */
export function encodeNdjsonFrame(msg: SerialMessage, unchecked = false): Uint8Array {
  const invalid = unchecked ? null : describeInvalid(msg);
  if (invalid !== null) throw new MpcdError('SERIAL_ENCODE', `cannot encode this ${msg.type} message for the serial wire: ${invalid}`);
  const wire: SerialMessage = { ...msg, stamp: toMicros(msg.stamp) / 1e6 };
  if (wire.type === 'command') wire.ttl = toMicros(wire.ttl) / 1e6;
  return encoder.encode(`${JSON.stringify(wire)}\n`);
}

/** Decodes one line ('\n' excluded; a trailing '\r' is tolerated). Never throws. */
export function decodeNdjsonFrame(line: Uint8Array): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(line));
  } catch {
    return { ok: false, reason: 'json' };
  }
  const r = serialMessageSchema.safeParse(parsed);
  return r.success ? { ok: true, msg: r.data } : { ok: false, reason: 'schema' };
}
