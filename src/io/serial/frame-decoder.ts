/**
 * Streaming deframer: bytes in as they arrive (any chunking), whole frames out. Frames end at
 * a delimiter byte (0x00 for COBS, '\n' for NDJSON). Memory is one buffer of `maxFrameBytes`,
 * allocated once: a frame longer than that is dropped up to the next delimiter and counted,
 * so a babbling device or line noise cannot grow memory. Empty frames (two delimiters in a
 * row, e.g. a sender's leading 0x00 to resync) are skipped without counting.
 */
export interface FrameDecoderOptions {
  /** 0x00 for COBS, 0x0a for NDJSON. */
  readonly delimiter: number;
  /** Longest frame kept, delimiter excluded. */
  readonly maxFrameBytes: number;
}

export class FrameDecoder {
  readonly delimiter: number;
  readonly maxFrameBytes: number;
  /** Frames delivered. */
  frames = 0;
  /** Over-long frames dropped. */
  oversize = 0;
  private readonly buf: Uint8Array;
  private length = 0;
  private discarding = false; // inside an over-long frame: skip up to the next delimiter

  constructor(opts: FrameDecoderOptions) {
    if (!Number.isInteger(opts.maxFrameBytes) || opts.maxFrameBytes < 1) throw new RangeError(`maxFrameBytes must be a positive integer, got ${opts.maxFrameBytes}`);
    this.delimiter = opts.delimiter;
    this.maxFrameBytes = opts.maxFrameBytes;
    this.buf = new Uint8Array(opts.maxFrameBytes);
  }

  /** Bytes held of an unfinished frame; never more than maxFrameBytes. */
  get bufferedBytes(): number {
    return this.length;
  }

  /**
   * Feeds bytes. `onFrame` gets each complete frame (delimiter excluded) as a view that is
   * valid only during the call: copy it to keep it. `onOversize` is told of each frame dropped
   * for length, once, when it crosses the limit.
   */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void, onOversize?: () => void): void {
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(this.delimiter, start);
      const stop = end < 0 ? chunk.length : end;
      if (!this.discarding) this.append(chunk, start, stop, onOversize);
      if (end < 0) return;
      // A delimiter: whatever was gathered is one frame.
      if (this.discarding) {
        this.discarding = false;
      } else if (this.length > 0) {
        this.frames++;
        const frame = this.buf.subarray(0, this.length);
        this.length = 0; // before the callback, so a throwing callback leaves a clean state
        onFrame(frame);
      }
      start = end + 1;
    }
  }

  /** Forgets a partial frame (the link was reopened: what came before is not part of the next frame). */
  reset(): void {
    this.length = 0;
    this.discarding = false;
  }

  private append(chunk: Uint8Array, from: number, to: number, onOversize: (() => void) | undefined): void {
    const n = to - from;
    if (n === 0) return;
    if (this.length + n > this.maxFrameBytes) {
      this.length = 0;
      this.discarding = true;
      this.oversize++;
      onOversize?.();
      return;
    }
    this.buf.set(chunk.subarray(from, to), this.length);
    this.length += n;
  }
}
