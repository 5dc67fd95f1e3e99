import { z } from 'zod';
import type { PayloadCodec } from '../codecs/codecs.js';
import type { CommandEnvelope } from '../command-envelope.js';
import { readField, type FieldPath } from './field-path.js';

/**
 * The schemas of every MQTT message (hardware/mqtt-contract.md). The same shapes travel as JSON
 * or CBOR. zod's number() rejects NaN and ±Infinity, so a non-finite value never validates.
 */

const seq = z.number().int().min(0).max(0xffff_ffff);
const stamp = z.number().describe('seconds, the sender monotonic clock');

/** daemon → robot, `<prefix>/command`. */
export const commandEnvelopeSchema = z
  .object({
    seq,
    stamp,
    ttl: z.number().positive().describe('seconds after stamp the command may be applied'),
    u: z.array(z.number()).min(1).max(256),
  })
  .strict() satisfies z.ZodType<CommandEnvelope>;

/** daemon → robot, `<prefix>/arm`: the safety state. Its own seq, so a redelivered one is recognised. */
export const armMessageSchema = z.object({ cmd: z.enum(['arm', 'disarm', 'estop']), seq, stamp }).strict();
export type ArmMessage = z.infer<typeof armMessageSchema>;

/** robot → daemon, `<prefix>/estop`: the robot's own e-stop (a button, a bumper, its watchdog). */
export const estopMessageSchema = z.object({ source: z.string().min(1).max(200), stamp }).strict();
export type EstopMessage = z.infer<typeof estopMessageSchema>;

/** daemon → robot, `<prefix>/heartbeat`: sent from the control loop's tick, so a stalled loop stops it. */
export const heartbeatSchema = z.object({ seq, stamp }).strict();
export type HeartbeatMessage = z.infer<typeof heartbeatSchema>;

/**
 * Retained on `<prefix>/status/daemon` and `<prefix>/status/robot`; `offline` is also each
 * client's last will. `session` changes on every start, so the robot knows the daemon restarted
 * (and resets its CommandGate) even when it never saw the offline.
 */
export const presenceSchema = z.object({ status: z.enum(['online', 'offline']), session: z.string().min(1).max(200) }).strict();
export type PresenceMessage = z.infer<typeof presenceSchema>;

/** Why an incoming message was dropped. */
export type DropReason = 'decode' | 'schema' | 'non_finite';

export type Validated<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: DropReason; readonly error: string };

/** Validates `value`, telling non-finite numbers (CBOR NaN, JSON 1e999) apart from other shape errors. */
export function validate<T>(schema: z.ZodType<T>, value: unknown): Validated<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const reason: DropReason = containsNonFinite(value, 0) ? 'non_finite' : 'schema';
  return { ok: false, reason, error: z.prettifyError(parsed.error) };
}

function containsNonFinite(value: unknown, depth: number): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (depth > 8 || typeof value !== 'object' || value === null) return false;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (containsNonFinite(v, depth + 1)) return true;
  return false;
}

/** Where one channel's values and stamp sit in its payload. */
export interface StateReadingLayout {
  readonly stamp: FieldPath;
  /** In the channel's slot order. */
  readonly fields: readonly FieldPath[];
}

export interface StateReading {
  readonly stamp: number;
  readonly values: Float64Array;
}

/**
 * A state reading: any object with a finite number at the stamp path and at every field path.
 * Other fields are allowed (a robot may publish more than this daemon reads).
 */
export function readStateReading(layout: StateReadingLayout, value: unknown): Validated<StateReading> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'schema', error: `expected an object, got ${describe(value)}` };
  }
  const stampValue = readField(value, layout.stamp);
  const bad = checkNumber(stampValue, layout.stamp);
  if (bad !== undefined) return bad;
  const values = new Float64Array(layout.fields.length);
  for (let i = 0; i < layout.fields.length; i++) {
    const path = layout.fields[i]!;
    const v = readField(value, path);
    const err = checkNumber(v, path);
    if (err !== undefined) return err;
    values[i] = v as number;
  }
  return { ok: true, value: { stamp: stampValue as number, values } };
}

function checkNumber(v: unknown, path: FieldPath): { ok: false; reason: DropReason; error: string } | undefined {
  if (typeof v !== 'number') return { ok: false, reason: 'schema', error: `${path.join('.')}: expected a number, got ${describe(v)}` };
  if (!Number.isFinite(v)) return { ok: false, reason: 'non_finite', error: `${path.join('.')}: ${v}` };
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

/** Bytes off the wire to a validated message, or why not. Never throws. */
export function decodeMessage<T>(codec: PayloadCodec, schema: z.ZodType<T>, bytes: Uint8Array): Validated<T> {
  const decoded = codec.decode(bytes);
  if (!decoded.ok) return { ok: false, reason: 'decode', error: decoded.error };
  return validate(schema, decoded.value);
}

/** Bytes off the wire to a state reading, or why not. Never throws. */
export function decodeStateReading(codec: PayloadCodec, layout: StateReadingLayout, bytes: Uint8Array): Validated<StateReading> {
  const decoded = codec.decode(bytes);
  if (!decoded.ok) return { ok: false, reason: 'decode', error: decoded.error };
  return readStateReading(layout, decoded.value);
}
