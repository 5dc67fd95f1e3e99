import { Decoder, Encoder } from 'cbor-x';
import { decodeFailure, MAX_PAYLOAD_BYTES, type DecodeResult, type PayloadCodec } from './payload-codec.js';

// Plain RFC 8949 CBOR: cbor-x's record extension (tag 105) and shared structures are off, because
// the other end is a robot's firmware with a stock CBOR library, not cbor-x. Maps decode as objects.
const options = { useRecords: false, mapsAsObjects: true, structuredClone: false } as const;
const encoder = new Encoder(options);
const decoder = new Decoder(options);

/**
 * CBOR (RFC 8949). Numbers that are not integers are encoded as float64; integers as CBOR ints.
 * A message must be exactly one CBOR item: trailing bytes are a decode failure.
 */
export const cborCodec: PayloadCodec = {
  name: 'cbor',
  encode(value: unknown): Uint8Array {
    // cbor-x returns a view into its reusable buffer; copy so the bytes outlive the next encode.
    return Uint8Array.from(encoder.encode(value));
  },
  decode(bytes: Uint8Array): DecodeResult {
    if (bytes.byteLength === 0) return { ok: false, error: 'empty payload' };
    if (bytes.byteLength > MAX_PAYLOAD_BYTES) return { ok: false, error: `payload of ${bytes.byteLength} bytes exceeds ${MAX_PAYLOAD_BYTES}` };
    try {
      return { ok: true, value: decoder.decode(bytes) as unknown };
    } catch (err) {
      return decodeFailure(err);
    }
  },
};
