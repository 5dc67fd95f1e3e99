import { BINARY_FRAME_LIMIT, decodeBinaryFrame, encodeBinaryFrame } from './binary-codec.js';
import type { DecodeResult, SerialMessage } from './messages.js';
import { decodeNdjsonFrame, encodeNdjsonFrame, NDJSON_LINE_LIMIT } from './ndjson-codec.js';

export type Framing = 'cobs' | 'ndjson';

/** A framing with its codec: what both ends of a serial link need to agree on. */
export interface WireFormat {
  readonly framing: Framing;
  readonly delimiter: number;
  readonly maxFrameBytes: number;
  /** A whole frame, delimiter included; throws MpcdError SERIAL_ENCODE on a message the wire cannot carry, unless `unchecked`. */
  encode(msg: SerialMessage, unchecked?: boolean): Uint8Array;
  /** One frame, delimiter excluded; never throws. */
  decode(frame: Uint8Array): DecodeResult;
}

const FORMATS: Readonly<Record<Framing, WireFormat>> = {
  cobs: { framing: 'cobs', delimiter: 0x00, maxFrameBytes: BINARY_FRAME_LIMIT, encode: encodeBinaryFrame, decode: decodeBinaryFrame },
  ndjson: { framing: 'ndjson', delimiter: 0x0a, maxFrameBytes: NDJSON_LINE_LIMIT, encode: encodeNdjsonFrame, decode: decodeNdjsonFrame },
};

export function wireFormat(framing: Framing): WireFormat {
  return FORMATS[framing];
}
