/**
 * Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999): removes every 0x00 from a block
 * so that 0x00 can delimit frames on the wire. A receiver that loses sync (noise, a replug in
 * mid-frame) is back in sync at the next 0x00. Overhead: one byte per 254, at least one.
 *
 * This is the variant without a trailing 0x01 after a final full block of 254 non-zero bytes
 * (the one on Wikipedia and in most firmware libraries); hardware/protocol.md has examples.
 * The `Into` functions write into a caller's buffer and never allocate.
 */

/** Largest COBS encoding of `n` bytes (delimiter not included). */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

/**
 * Encodes src[0, srcLength) into dst (which must hold cobsMaxEncodedLength(srcLength) bytes);
 * returns the encoded length. No 0x00 is written.
 */
export function cobsEncodeInto(src: Uint8Array, srcLength: number, dst: Uint8Array): number {
  let out = 1; // where the next data byte goes
  let codeAt = 0; // where the current block's code byte goes
  let code = 1; // 1 + data bytes in the current block
  for (let i = 0; i < srcLength; i++) {
    const b = src[i]!;
    if (b === 0) {
      dst[codeAt] = code;
      codeAt = out++;
      code = 1;
      continue;
    }
    dst[out++] = b;
    code++;
    // A full block of 254 non-zero bytes ends without an implied zero; start a new block
    // only if there is more input (hence no trailing 0x01).
    if (code === 0xff && i + 1 < srcLength) {
      dst[codeAt] = code;
      codeAt = out++;
      code = 1;
    }
  }
  dst[codeAt] = code;
  return out;
}

/**
 * Decodes src[0, srcLength) (one frame, without its 0x00 delimiter) into dst, which must hold
 * srcLength bytes; returns the decoded length, or -1 if the frame is not valid COBS (a 0x00
 * inside, or a block that runs past the end).
 */
export function cobsDecodeInto(src: Uint8Array, srcLength: number, dst: Uint8Array): number {
  if (srcLength === 0) return -1;
  let i = 0;
  let out = 0;
  while (i < srcLength) {
    const code = src[i]!;
    if (code === 0 || i + code > srcLength) return -1; // a block may not run past the frame
    i++;
    for (let k = 1; k < code; k++) {
      const b = src[i++]!;
      if (b === 0) return -1;
      dst[out++] = b;
    }
    if (code !== 0xff && i < srcLength) dst[out++] = 0;
  }
  return out;
}

/** Allocating convenience: the COBS encoding of `data`, without the delimiter. */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const dst = new Uint8Array(cobsMaxEncodedLength(data.length));
  return dst.subarray(0, cobsEncodeInto(data, data.length, dst));
}

/** Allocating convenience: the decoded frame, or null if it is not valid COBS. */
export function cobsDecode(frame: Uint8Array): Uint8Array | null {
  const dst = new Uint8Array(frame.length);
  const n = cobsDecodeInto(frame, frame.length, dst);
  return n < 0 ? null : dst.subarray(0, n);
}
