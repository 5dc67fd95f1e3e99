import { decodeFailure, MAX_PAYLOAD_BYTES, type DecodeResult, type PayloadCodec } from './payload-codec.js';

const encoder = new TextEncoder();
// fatal: invalid UTF-8 is a decode failure, not a string full of U+FFFD that might still parse.
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 JSON. JSON has no NaN or Infinity: a non-finite number is encoded as null (which every
 * schema here rejects), and an overflowing literal such as 1e999 decodes to Infinity (which the
 * schemas reject too), so a non-finite value never passes through silently.
 */
export const jsonCodec: PayloadCodec = {
  name: 'json',
  encode(value: unknown): Uint8Array {
    return encoder.encode(JSON.stringify(value));
  },
  decode(bytes: Uint8Array): DecodeResult {
    if (bytes.byteLength > MAX_PAYLOAD_BYTES) return { ok: false, error: `payload of ${bytes.byteLength} bytes exceeds ${MAX_PAYLOAD_BYTES}` };
    try {
      return { ok: true, value: JSON.parse(decoder.decode(bytes)) as unknown };
    } catch (err) {
      return decodeFailure(err);
    }
  },
};
