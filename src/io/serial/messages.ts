import { z } from 'zod';

/**
 * The messages of the serial protocol (hardware/protocol.md), independent of framing: the
 * binary codec (COBS + CRC-16) and the NDJSON codec carry exactly these. Times are seconds
 * here and whole microseconds on the wire; both encoders round them to the microsecond.
 *
 * Every message carries its sender's `session` (a random id per boot or daemon run; a new one
 * means the sender restarted, so the receiver starts its sequence and clock checks afresh),
 * `seq` (a per-session frame counter, +1 per frame sent, of any type) and `stamp` (the
 * sender's monotonic clock).
 */

/** Most values in one STATE or COMMAND (bounds the frame size). */
export const MAX_VALUES = 32;
/** Longest e-stop source text, in UTF-8 bytes. */
export const MAX_SOURCE_BYTES = 32;
/**
 * Largest stamp accepted: 2^32 s (136 years of uptime). The wire field is u64 µs; this bound
 * keeps seconds <-> whole µs exact in a double both ways.
 */
export const MAX_STAMP_S = 2 ** 32;
/** Largest ttl the wire carries (uint32 µs). */
export const MAX_TTL_S = 0xffffffff / 1e6;

const u32 = z.number().int().min(0).max(0xffffffff);
const header = {
  session: u32,
  seq: u32,
  stamp: z.number().min(0).max(MAX_STAMP_S),
};
// z.number() already refuses NaN and ±Infinity, so every decoded value is finite.
const values = z.array(z.number()).max(MAX_VALUES);

export const serialMessageSchema = z.discriminatedUnion('type', [
  /** robot -> daemon: one sensor channel's reading, stamped with the robot's clock. */
  z.object({ type: z.literal('state'), ...header, channel: z.number().int().min(0).max(255), values }).strict(),
  /** daemon -> robot: a CommandEnvelope (seq, stamp, ttl, u); u in the config's wire order. */
  z.object({ type: z.literal('command'), ...header, ttl: z.number().min(1e-6).max(MAX_TTL_S), u: values }).strict(),
  /** daemon -> robot: the control loop is alive. */
  z.object({ type: z.literal('heartbeat'), ...header }).strict(),
  z.object({ type: z.literal('arm'), ...header }).strict(),
  z.object({ type: z.literal('disarm'), ...header }).strict(),
  /** both ways: stop now. From the robot it names what tripped (its button, a limit switch). */
  z
    .object({
      type: z.literal('estop'),
      ...header,
      source: z.string().refine((s) => utf8Length(s) <= MAX_SOURCE_BYTES, `at most ${MAX_SOURCE_BYTES} UTF-8 bytes`),
    })
    .strict(),
]);

export type SerialMessage = z.infer<typeof serialMessageSchema>;
export type SerialMessageType = SerialMessage['type'];

/**
 * Why a frame was dropped. Decoders return these instead of throwing: bad input from a wire
 * is counted and dropped, never thrown.
 */
export type DropReason =
  | 'oversize' // longer than the framing's maximum; dropped up to the next delimiter
  | 'cobs' // not valid COBS
  | 'too_short'
  | 'crc'
  | 'unknown_type'
  | 'bad_length' // the length does not match the type and its count
  | 'bad_value' // a non-finite float, a stamp past 2^32 s, a zero ttl, a count over MAX_VALUES, bad UTF-8
  | 'json' // not a JSON line
  | 'schema'; // JSON, but not a message

export type DecodeResult = { readonly ok: true; readonly msg: SerialMessage } | { readonly ok: false; readonly reason: DropReason };

/** Encoders refuse what the wire cannot carry; callers build messages, so this is a programming error. */
export function describeInvalid(msg: SerialMessage): string | null {
  const r = serialMessageSchema.safeParse(msg);
  if (r.success) return null;
  return r.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ');
}

export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Seconds to whole microseconds, as both codecs put them on the wire. */
export function toMicros(seconds: number): number {
  // Whole and fractional parts apart: seconds * 1e6 alone can round to the wrong µs for large stamps.
  const whole = Math.floor(seconds);
  return whole * 1e6 + Math.round((seconds - whole) * 1e6);
}
