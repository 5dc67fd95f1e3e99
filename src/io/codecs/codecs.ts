import { cborCodec } from './cbor-codec.js';
import { jsonCodec } from './json-codec.js';
import type { CodecName, PayloadCodec } from './payload-codec.js';

export type { CodecName, DecodeResult, PayloadCodec } from './payload-codec.js';

export function codecFor(name: CodecName): PayloadCodec {
  return name === 'cbor' ? cborCodec : jsonCodec;
}
