/**
 * A payload codec turns a plain object into bytes and back. Decoding never throws: bytes come
 * from a wire, and bad input is counted and dropped by the caller, never thrown out of the daemon.
 * Decoding only parses; whether the value has the right shape is a schema's job (payloads.ts).
 */
export interface PayloadCodec {
  readonly name: CodecName;
  /** Bytes for `value`; the result is owned by the caller (never a view into a reused buffer). */
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): DecodeResult;
}

export type CodecName = 'json' | 'cbor';

export type DecodeResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: string };

/** Larger messages are refused before parsing: no sensor reading or command is anywhere near this. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export function decodeFailure(err: unknown): DecodeResult {
  return { ok: false, error: err instanceof Error ? err.message : String(err) };
}
