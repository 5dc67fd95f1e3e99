import { closeSync, fsync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

import { LIBRARY_IDENTIFIER, McapRecordBuilder, Opcode } from '@mcap/core';
import type { Channel, Schema } from '@mcap/core';

import { MpcdError } from '../core/errors.js';
import {
  MESSAGE_ENCODING,
  RUN_INFO_METADATA_NAME,
  RUN_INFO_SCHEMA_NAME,
  RUN_INFO_TOPIC,
  SCHEMA_ENCODING,
  TRANSITION_SCHEMA_NAME,
  TRANSITION_TOPIC,
  TransitionFlags,
  runInfoJsonSchema,
  transitionJsonSchema,
} from './transition-schema.js';
import type { RunInfo, Transition } from './transition-schema.js';

export interface TransitionLogWriterOptions {
  /** Replace an existing file at the path. Default false: an old log is never clobbered. */
  overwrite?: boolean;
}

const TRANSITION_CHANNEL_ID = 1;
const RUN_INFO_CHANNEL_ID = 2;
const TRANSITION_SCHEMA_ID = 1;
const RUN_INFO_SCHEMA_ID = 2;

// Message record: opcode u8, record length u64, channel id u16, sequence u32, log time u64,
// publish time u64, then the JSON payload.
const MESSAGE_PREFIX_BYTES = 1 + 8 + 2 + 4 + 8 + 8;
const TWO_POW_32 = 4294967296;

const encoder = new TextEncoder();

/**
 * Append-only MCAP writer of the transition log, built for crash safety.
 *
 * Every record is written unchunked and handed to the kernel with one synchronous write() inside
 * `append()`, so when the process dies (SIGKILL included) the file holds every record that
 * `append()` returned for, and at most one torn record after them; `readTransitionLog` skips that
 * tail. There is no fsync per record: the page cache outlives the process, not the machine, so a
 * power loss can lose the last few seconds (`close()` fsyncs). McapWriter from @mcap/core is not
 * used because in unchunked mode it keeps messages in memory until the next metadata/attachment
 * or `end()`; its McapRecordBuilder still serializes every record except the hot-path message,
 * which is framed here into one reused buffer (no copy, no BigInt per record).
 */
export class TransitionLogWriter {
  readonly path: string;
  /** The run info as written, with start_time filled in. */
  readonly info: Readonly<Required<RunInfo>>;

  readonly #fd: number;
  #state: 'open' | 'failed' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  #position = 0;
  #count = 0;
  #maxOffsetNs = 0;
  #metadataOffset = 0;
  #metadataLength = 0;
  readonly #startNs: bigint;
  readonly #startHi: number;
  readonly #startLo: number;
  readonly #schemas: Schema[];
  readonly #channels: Channel[];
  #frame: Uint8Array;
  #frameView: DataView;
  #payload: Uint8Array;

  private constructor(path: string, fd: number, info: Readonly<Required<RunInfo>>) {
    this.path = path;
    this.#fd = fd;
    this.info = info;
    // Microsecond resolution keeps start_time * 1e6 an exact integer in a double.
    this.#startNs = BigInt(Math.round(info.start_time * 1e6)) * 1000n;
    this.#startHi = Number(this.#startNs >> 32n);
    this.#startLo = Number(this.#startNs & 0xffffffffn);
    this.#schemas = [
      schemaRecord(TRANSITION_SCHEMA_ID, TRANSITION_SCHEMA_NAME, transitionJsonSchema),
      schemaRecord(RUN_INFO_SCHEMA_ID, RUN_INFO_SCHEMA_NAME, runInfoJsonSchema),
    ];
    this.#channels = [
      {
        id: TRANSITION_CHANNEL_ID,
        schemaId: TRANSITION_SCHEMA_ID,
        topic: TRANSITION_TOPIC,
        messageEncoding: MESSAGE_ENCODING,
        metadata: new Map([['flags', JSON.stringify(TransitionFlags)]]),
      },
      {
        id: RUN_INFO_CHANNEL_ID,
        schemaId: RUN_INFO_SCHEMA_ID,
        topic: RUN_INFO_TOPIC,
        messageEncoding: MESSAGE_ENCODING,
        metadata: new Map(),
      },
    ];
    this.#frame = new Uint8Array(4096);
    this.#frameView = new DataView(this.#frame.buffer);
    this.#payload = this.#frame.subarray(MESSAGE_PREFIX_BYTES);
  }

  /**
   * Creates the file (and its parent folders) and writes the header, schemas, channels, the
   * run_info message and the `mpcd` metadata record, synchronously. Throws MpcdError LOG_OPEN
   * when the file exists (unless `overwrite`) or cannot be created.
   */
  static open(
    path: string,
    info: RunInfo,
    options: TransitionLogWriterOptions = {},
  ): TransitionLogWriter {
    const startTime = info.start_time ?? Date.now() / 1000;
    if (!Number.isFinite(startTime) || startTime < 0) {
      throw new MpcdError(
        'LOG_OPEN',
        `Cannot create transition log ${path}: start_time must be seconds since the Unix ` +
          `epoch, got ${startTime}`,
      );
    }
    let fd: number;
    try {
      mkdirSync(dirname(path), { recursive: true });
      fd = openSync(path, options.overwrite === true ? 'w' : 'wx');
    } catch (err) {
      const hint =
        (err as NodeJS.ErrnoException).code === 'EEXIST'
          ? 'it already exists; pick a new file name (or pass { overwrite: true })'
          : 'check that the folder is writable';
      throw new MpcdError(
        'LOG_OPEN',
        `Cannot create transition log ${path}: ${hint} (${String(err)})`,
      );
    }
    const full: Required<RunInfo> = {
      state_names: [...info.state_names],
      action_names: [...info.action_names],
      control_period: info.control_period,
      config: info.config,
      start_time: startTime,
    };
    const writer = new TransitionLogWriter(path, fd, full);
    try {
      writer.#writeStart();
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return writer;
  }

  /** Transitions appended so far (each one fully handed to the kernel). */
  get count(): number {
    return this.#count;
  }

  /** Bytes written to the file so far. */
  get bytesWritten(): number {
    return this.#position;
  }

  /**
   * Writes one transition as one MCAP message record with one synchronous write. Allocates only
   * the JSON string. Throws MpcdError LOG_CLOSED after close(), LOG_WRITE when the write fails
   * (disk full, I/O error); after a failed write the writer refuses further records, since the
   * file may end in a torn record that later ones must not follow.
   */
  append(tr: Transition): void {
    if (this.#state !== 'open') {
      const closed = this.#state === 'closed';
      throw new MpcdError(
        closed ? 'LOG_CLOSED' : 'LOG_WRITE',
        `Transition log ${this.path} is ${closed ? 'closed' : 'unusable after a write error'}; ` +
          'open a new one',
      );
    }
    const json = JSON.stringify(tr);
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    if (this.#payload.length < json.length * 3) {
      this.#grow(MESSAGE_PREFIX_BYTES + json.length * 3);
    }
    const payloadBytes = encoder.encodeInto(json, this.#payload).written;

    // Plant time → log time; negative or non-finite t are logged at the start time.
    let offsetNs = Math.round(tr.t * 1e9);
    if (!(offsetNs > 0)) offsetNs = 0;
    else if (offsetNs > Number.MAX_SAFE_INTEGER) offsetNs = Number.MAX_SAFE_INTEGER;
    if (offsetNs > this.#maxOffsetNs) this.#maxOffsetNs = offsetNs;
    let lo = this.#startLo + (offsetNs % TWO_POW_32);
    let hi = this.#startHi + Math.floor(offsetNs / TWO_POW_32);
    if (lo >= TWO_POW_32) {
      lo -= TWO_POW_32;
      hi += 1;
    }

    const v = this.#frameView;
    v.setUint8(0, Opcode.MESSAGE);
    v.setUint32(1, MESSAGE_PREFIX_BYTES - 9 + payloadBytes, true);
    v.setUint32(5, 0, true);
    v.setUint16(9, TRANSITION_CHANNEL_ID, true);
    v.setUint32(11, this.#count >>> 0, true); // sequence wraps at 2^32, as MCAP's u32 does
    v.setUint32(15, lo, true);
    v.setUint32(19, hi, true);
    v.setUint32(23, lo, true);
    v.setUint32(27, hi, true);
    this.#write(this.#frame, MESSAGE_PREFIX_BYTES + payloadBytes);
    this.#count++;
  }

  /**
   * Writes the DataEnd record, the summary (schemas, channels, statistics, metadata index,
   * summary offsets) and the footer, fsyncs and closes the file, so that it is a complete,
   * indexed MCAP file. Idempotent. Rejects with LOG_WRITE when the log had a write error (the
   * file is then left torn, which the reader handles).
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const fd = this.#fd;
    if (this.#state === 'failed') {
      closeSync(fd);
      this.#state = 'closed';
      throw new MpcdError(
        'LOG_WRITE',
        `Transition log ${this.path} was left incomplete after a write error`,
      );
    }
    this.#state = 'closed';
    try {
      const bytes = this.#summaryBytes();
      this.#write(bytes, bytes.length);
      await new Promise<void>((resolve, reject) => {
        fsync(fd, (err) => (err ? reject(err) : resolve()));
      });
    } catch (err) {
      throw err instanceof MpcdError
        ? err
        : new MpcdError('LOG_WRITE', `Cannot finish transition log ${this.path}: ${String(err)}`);
    } finally {
      closeSync(fd);
    }
  }

  #writeStart(): void {
    const b = new McapRecordBuilder();
    b.writeMagic();
    b.writeHeader({ profile: '', library: `mpcd; ${LIBRARY_IDENTIFIER}` });
    for (const schema of this.#schemas) b.writeSchema(schema);
    for (const channel of this.#channels) b.writeChannel(channel);
    b.writeMessage({
      channelId: RUN_INFO_CHANNEL_ID,
      sequence: 0,
      logTime: this.#startNs,
      publishTime: this.#startNs,
      data: encoder.encode(JSON.stringify(this.info)),
    });
    this.#metadataOffset = b.length;
    const info = this.info;
    this.#metadataLength = Number(
      b.writeMetadata({
        name: RUN_INFO_METADATA_NAME,
        metadata: new Map([
          ['state_names', JSON.stringify(info.state_names)],
          ['action_names', JSON.stringify(info.action_names)],
          ['control_period', String(info.control_period)],
          ['start_time', String(info.start_time)],
          ['config', info.config],
          ['library', `mpcd; ${LIBRARY_IDENTIFIER}`],
        ]),
      }),
    );
    const bytes = b.buffer;
    this.#write(bytes, bytes.length);
  }

  #summaryBytes(): Uint8Array {
    const b = new McapRecordBuilder();
    // CRCs are written as 0 ("not computed"), which the MCAP spec allows.
    b.writeDataEnd({ dataSectionCrc: 0 });
    const summaryStart = BigInt(this.#position + b.length);

    const groups: { opcode: number; start: bigint; length: bigint }[] = [];
    const group = (opcode: number, write: () => bigint): void => {
      const start = BigInt(this.#position + b.length);
      groups.push({ opcode, start, length: write() });
    };
    group(Opcode.SCHEMA, () => this.#schemas.reduce((n, s) => n + b.writeSchema(s), 0n));
    group(Opcode.CHANNEL, () => this.#channels.reduce((n, c) => n + b.writeChannel(c), 0n));
    group(Opcode.STATISTICS, () =>
      b.writeStatistics({
        messageCount: BigInt(this.#count) + 1n,
        schemaCount: this.#schemas.length,
        channelCount: this.#channels.length,
        attachmentCount: 0,
        metadataCount: 1,
        chunkCount: 0,
        messageStartTime: this.#startNs,
        messageEndTime: this.#startNs + BigInt(this.#maxOffsetNs),
        channelMessageCounts: new Map([
          [TRANSITION_CHANNEL_ID, BigInt(this.#count)],
          [RUN_INFO_CHANNEL_ID, 1n],
        ]),
      }),
    );
    group(Opcode.METADATA_INDEX, () =>
      b.writeMetadataIndex({
        offset: BigInt(this.#metadataOffset),
        length: BigInt(this.#metadataLength),
        name: RUN_INFO_METADATA_NAME,
      }),
    );

    const summaryOffsetStart = BigInt(this.#position + b.length);
    for (const g of groups) {
      b.writeSummaryOffset({ groupOpcode: g.opcode, groupStart: g.start, groupLength: g.length });
    }
    b.writeFooter({ summaryStart, summaryOffsetStart, summaryCrc: 0 });
    b.writeMagic();
    return b.buffer;
  }

  #grow(bytes: number): void {
    this.#frame = new Uint8Array(Math.max(bytes, this.#frame.length * 2));
    this.#frameView = new DataView(this.#frame.buffer);
    this.#payload = this.#frame.subarray(MESSAGE_PREFIX_BYTES);
  }

  /** One synchronous write (looped only if the kernel takes a partial write). */
  #write(bytes: Uint8Array, length: number): void {
    let done = 0;
    try {
      while (done < length) {
        done += writeSync(this.#fd, bytes, done, length - done);
      }
    } catch (err) {
      this.#position += done;
      if (this.#state === 'open') this.#state = 'failed';
      throw new MpcdError(
        'LOG_WRITE',
        `Cannot write to transition log ${this.path}: ${String(err)}`,
      );
    }
    this.#position += length;
  }
}

function schemaRecord(id: number, name: string, jsonSchema: object): Schema {
  return { id, name, encoding: SCHEMA_ENCODING, data: encoder.encode(JSON.stringify(jsonSchema)) };
}
