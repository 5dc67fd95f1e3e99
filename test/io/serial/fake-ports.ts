import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { VirtualTimeScheduler } from 'rxjs';
import { decodeBinaryFrame, encodeBinaryFrame } from '../../../src/io/serial/binary-codec.js';
import type { SerialMessage } from '../../../src/io/serial/messages.js';
import type { PortListing, SerialByteStream, SerialPorts } from '../../../src/io/serial/serial-ports.js';

/** In-memory serial ports for tests in virtual time: a robot's frames in, the daemon's frames out (COBS+CRC). */

export class FakePort extends EventEmitter implements SerialByteStream {
  readonly written: Uint8Array[] = [];
  isOpen = true;
  writableLength = 0;
  constructor(readonly path: string) {
    super();
  }
  write(data: Uint8Array): boolean {
    this.written.push(data);
    return true;
  }
  close(cb?: (err: Error | null) => void): void {
    this.isOpen = false;
    cb?.(null);
  }
  /** The robot sends a message. */
  receive(msg: SerialMessage): void {
    this.emit('data', Buffer.from(encodeBinaryFrame(msg)));
  }
  sent(): SerialMessage[] {
    return this.written.map((f) => {
      const r = decodeBinaryFrame(f.subarray(0, f.length - 1));
      assert.ok(r.ok);
      return r.msg;
    });
  }
}

export class FakePorts implements SerialPorts {
  available = true;
  listing: PortListing[] = [];
  readonly opened: FakePort[] = [];
  readonly attempts: number[] = []; // virtual ms of each open attempt
  constructor(readonly scheduler: VirtualTimeScheduler) {}
  async list(): Promise<readonly PortListing[]> {
    return this.listing;
  }
  async open(path: string): Promise<SerialByteStream> {
    this.attempts.push(this.scheduler.now());
    if (!this.available) throw new Error(`ENOENT: no such file ${path}`);
    const p = new FakePort(path);
    this.opened.push(p);
    return p;
  }
  get last(): FakePort {
    return this.opened[this.opened.length - 1]!;
  }
}
