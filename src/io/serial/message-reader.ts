import { FrameDecoder } from './frame-decoder.js';
import type { DropReason, SerialMessage } from './messages.js';
import type { WireFormat } from './wire-format.js';

/**
 * Bytes in, decoded messages out: a FrameDecoder and a codec together. Every frame ends as
 * exactly one `onMessage` or one `onDrop(reason)`; nothing here throws on input.
 */
export class MessageReader {
  readonly frames: FrameDecoder;

  constructor(
    readonly format: WireFormat,
    private readonly onMessage: (msg: SerialMessage) => void,
    private readonly onDrop: (reason: DropReason) => void,
  ) {
    this.frames = new FrameDecoder({ delimiter: format.delimiter, maxFrameBytes: format.maxFrameBytes });
  }

  push(chunk: Uint8Array): void {
    this.frames.push(chunk, this.onFrame, this.onOversize);
  }

  /** Forgets a partial frame (call on reopen). */
  reset(): void {
    this.frames.reset();
  }

  private readonly onFrame = (frame: Uint8Array): void => {
    const r = this.format.decode(frame);
    if (r.ok) this.onMessage(r.msg);
    else this.onDrop(r.reason);
  };

  private readonly onOversize = (): void => this.onDrop('oversize');
}
