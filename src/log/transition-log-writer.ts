import { closeSync, fsync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

import { LIBRARY_IDENTIFIER, McapRecordBuilder, Opcode } from '@mcap/core';
import type { Channel, Schema } from '@mcap/core';

import { MpcdError } from '../core/errors.js';
import { createLogger } from '../telemetry/logger.js';
import {
  EVENT_SCHEMA_NAME,
  EVENT_TOPIC,
  MESSAGE_ENCODING,
  RUN_INFO_METADATA_NAME,
  RUN_INFO_SCHEMA_NAME,
  RUN_INFO_TOPIC,
  SCHEMA_ENCODING,
  TRANSITION_SCHEMA_NAME,
  TRANSITION_TOPIC,
  TransitionFlags,
  eventJsonSchema,
  runInfoJsonSchema,
  transitionJsonSchema,
} from './transition-schema.js';
import type { LogEvent, RunInfo, Transition } from './transition-schema.js';

/** The file-system calls the writer makes after open(): node:fs, or a stand-in in tests. */
export interface TransitionLogFs {
  /** As node's fs.writeSync: bytes written (may be fewer than `length`), or throws. */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  /** As node's fs.fsync. */
  fsync(fd: number, callback: (err: NodeJS.ErrnoException | null) => void): void;
}

export interface TransitionLogWriterOptions {
  /** Replace an existing file at the path. Default false: an old log is never clobbered. */
  overwrite?: boolean;
  /** Where writes and fsyncs go; default node:fs. Tests inject failing ones here. */
  fs?: TransitionLogFs;
  /** Where the one `log_write_failed` line goes; default createLogger() (pino, stderr). */
  logger?: FailureLogger;
}

/** What the writer logs its failure to: a pino Logger fits. */
export interface FailureLogger {
  error(fields: Record<string, unknown>, msg: string): void;
}

/** Why the writer stopped writing mid-run (see TransitionLogWriter.failure). */
export interface TransitionLogFailure {
  /**
   * The errno code of the failed call (ENOSPC, EROFS, EIO, EDQUOT, ...); `SHORT_WRITE` when a
   * write returned 0 bytes, making no progress; `EUNKNOWN` when the error had no code.
   */
  code: string;
  /** The error's message. */
  message: string;
  /** Transitions wholly written before the failure: the ones a reader gets back. */
  records: number;
  /** Events wholly written before the failure. */
  events: number;
  /** Length of the file's valid prefix (whole records) at the failure. */
  bytes: number;
}

/** The stable `code` of the pino line a failed write logs. */
export const LOG_WRITE_FAILED = 'log_write_failed';

const TRANSITION_CHANNEL_ID = 1;
const RUN_INFO_CHANNEL_ID = 2;
const EVENT_CHANNEL_ID = 3;
const TRANSITION_SCHEMA_ID = 1;
const RUN_INFO_SCHEMA_ID = 2;
const EVENT_SCHEMA_ID = 3;

// Message record: opcode u8, record length u64, channel id u16, sequence u32, log time u64,
// publish time u64, then the JSON payload.
const MESSAGE_PREFIX_BYTES = 1 + 8 + 2 + 4 + 8 + 8;
const TWO_POW_32 = 4294967296;

const encoder = new TextEncoder();
const nodeFs: TransitionLogFs = { writeSync, fsync };

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
 *
 * A failed write (disk full, read-only file system, I/O error) never reaches the control loop:
 * `append()` and `appendEvent()` return as usual, the writer writes nothing more for the rest of
 * the run, one `log_write_failed` line goes to the pino log, and `failure` says what happened.
 * The file keeps every record written before the failure, then at most one torn record.
 */
export class TransitionLogWriter {
  readonly path: string;
  /** The run info as written, with start_time filled in. */
  readonly info: Readonly<Required<RunInfo>>;

  readonly #fd: number;
  readonly #fs: TransitionLogFs;
  readonly #logger: FailureLogger | undefined;
  #state: 'open' | 'failed' | 'closed' = 'open';
  #failure: TransitionLogFailure | undefined;
  #closing: Promise<void> | undefined;
  #position = 0;
  #count = 0;
  #events = 0;
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

  private constructor(
    path: string,
    fd: number,
    info: Readonly<Required<RunInfo>>,
    options: TransitionLogWriterOptions,
  ) {
    this.path = path;
    this.#fd = fd;
    this.#fs = options.fs ?? nodeFs;
    this.#logger = options.logger;
    this.info = info;
    // Microsecond resolution keeps start_time * 1e6 an exact integer in a double.
    this.#startNs = BigInt(Math.round(info.start_time * 1e6)) * 1000n;
    this.#startHi = Number(this.#startNs >> 32n);
    this.#startLo = Number(this.#startNs & 0xffffffffn);
    this.#schemas = [
      schemaRecord(TRANSITION_SCHEMA_ID, TRANSITION_SCHEMA_NAME, transitionJsonSchema),
      schemaRecord(RUN_INFO_SCHEMA_ID, RUN_INFO_SCHEMA_NAME, runInfoJsonSchema),
      schemaRecord(EVENT_SCHEMA_ID, EVENT_SCHEMA_NAME, eventJsonSchema),
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
      {
        id: EVENT_CHANNEL_ID,
        schemaId: EVENT_SCHEMA_ID,
        topic: EVENT_TOPIC,
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
   * when the file exists (unless `overwrite`) or cannot be created, and also when writing that
   * start fails (disk full, read-only, /dev/full): at open nothing runs yet, so the daemon stops
   * with a clear error rather than start a run it cannot log. The fd is closed; whatever the
   * failed write left in the file stays (a torn file with no transitions), nothing is deleted.
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
    const writer = new TransitionLogWriter(path, fd, full, options);
    const err = writer.#writeStart();
    if (err !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // The write already failed; its error is the one worth reporting.
      }
      const code = errnoCode(err);
      throw new MpcdError(
        'LOG_OPEN',
        `Cannot start transition log ${path}: writing its header failed with ${code} ` +
          `(${errorMessage(err)}); free disk space or pick a writable folder, or run without ` +
          'a log (--no-log)',
      );
    }
    return writer;
  }

  /** Transitions appended so far (each one fully handed to the kernel). */
  get count(): number {
    return this.#count;
  }

  /** Events appended so far (each one fully handed to the kernel). */
  get eventCount(): number {
    return this.#events;
  }

  /** Bytes of whole records written to the file so far. */
  get bytesWritten(): number {
    return this.#position;
  }

  /**
   * Set once a write failed (mid-run, or the footer at close): what failed and how many records
   * made it. From then on the writer writes nothing; undefined while all is well.
   */
  get failure(): TransitionLogFailure | undefined {
    return this.#failure;
  }

  /**
   * Writes one transition as one MCAP message record with one synchronous write. Allocates only
   * the JSON string. Never throws for an I/O error: when the write fails (disk full, read-only,
   * I/O error), the writer records `failure`, logs it once and drops this and every later
   * record, since none may follow the torn one the file may now end in. Throws MpcdError
   * LOG_CLOSED after close() (a caller's bug, not the disk's).
   */
  append(tr: Transition): void {
    if (this.#state !== 'open') {
      if (this.#state === 'failed') return;
      throw this.#closedError();
    }
    const json = JSON.stringify(tr);
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    if (this.#payload.length < json.length * 3) {
      this.#grow(MESSAGE_PREFIX_BYTES + json.length * 3);
    }
    const payloadBytes = encoder.encodeInto(json, this.#payload).written;

    const offsetNs = this.#offsetNs(tr.t);
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
    const err = this.#write(this.#frame, MESSAGE_PREFIX_BYTES + payloadBytes);
    if (err !== undefined) return this.#fail(err);
    this.#count++;
  }

  /**
   * Writes one event on `/mpcd/events`, with one synchronous write, between the transitions in
   * the order of the calls. Same crash safety and failure handling as append(): never throws
   * for an I/O error. A `detail` that JSON cannot hold (a BigInt, a cycle) is written as
   * `{ unserializable: <why> }`. Throws MpcdError LOG_CLOSED after close().
   */
  appendEvent(event: LogEvent): void {
    if (this.#state !== 'open') {
      if (this.#state === 'failed') return;
      throw this.#closedError();
    }
    let json: string;
    try {
      json = JSON.stringify({ t: event.t, kind: event.kind, detail: event.detail });
    } catch (err) {
      json = JSON.stringify({
        t: event.t,
        kind: event.kind,
        detail: { unserializable: errorMessage(err) },
      });
    }
    const offsetNs = this.#offsetNs(event.t);
    const logTime = this.#startNs + BigInt(offsetNs);
    const b = new McapRecordBuilder();
    b.writeMessage({
      channelId: EVENT_CHANNEL_ID,
      sequence: this.#events >>> 0,
      logTime,
      publishTime: logTime,
      data: encoder.encode(json),
    });
    const bytes = b.buffer;
    const err = this.#write(bytes, bytes.length);
    if (err !== undefined) return this.#fail(err);
    this.#events++;
  }

  /**
   * Writes the DataEnd record, the summary (schemas, channels, statistics, metadata index,
   * summary offsets) and the footer, fsyncs and closes the file, so that it is a complete,
   * indexed MCAP file. Idempotent. Never rejects for an I/O error: a footer write, fsync or
   * close that fails sets `failure` (logged once) and leaves the file torn, which the reader
   * handles. A writer that had already failed writes nothing more (a footer after a torn record
   * would make the file unreadable past it, and a complete-looking file would hide the records
   * lost after the failure) and does not fsync; it only closes the fd, so it cannot hang.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const fd = this.#fd;
    const failed = this.#state === 'failed';
    this.#state = 'closed';
    if (!failed) {
      const bytes = this.#summaryBytes();
      const err =
        this.#write(bytes, bytes.length) ??
        (await new Promise<unknown>((resolve) => {
          this.#fs.fsync(fd, (e) => resolve(e ?? undefined));
        }));
      if (err !== undefined) this.#fail(err);
    }
    try {
      closeSync(fd);
    } catch (err) {
      if (!failed && this.#failure === undefined) this.#fail(err);
    }
  }

  /** The error of a record appended after close(). */
  #closedError(): MpcdError {
    return new MpcdError(
      'LOG_CLOSED',
      `Transition log ${this.path} is closed; open a new one`,
    );
  }

  /** Plant time → offset from start_time, ns; negative or non-finite t are logged at 0. */
  #offsetNs(t: number): number {
    let offsetNs = Math.round(t * 1e9);
    if (!(offsetNs > 0)) offsetNs = 0;
    else if (offsetNs > Number.MAX_SAFE_INTEGER) offsetNs = Number.MAX_SAFE_INTEGER;
    if (offsetNs > this.#maxOffsetNs) this.#maxOffsetNs = offsetNs;
    return offsetNs;
  }

  /** The first failed write: stop writing, keep what happened, say it once. */
  #fail(err: unknown): void {
    if (this.#state === 'open') this.#state = 'failed';
    if (this.#failure !== undefined) return;
    const failure: TransitionLogFailure = {
      code: errnoCode(err),
      message: errorMessage(err),
      records: this.#count,
      events: this.#events,
      bytes: this.#position,
    };
    this.#failure = failure;
    try {
      (this.#logger ?? createLogger()).error(
        {
          code: LOG_WRITE_FAILED,
          errno: failure.code,
          path: this.path,
          records: failure.records,
          events: failure.events,
          bytes: failure.bytes,
          err: failure.message,
        },
        'transition log write failed; no more transitions are logged in this run, control goes on',
      );
    } catch {
      // The daemon's log is on stderr, not this disk; if even that fails, control still goes on.
    }
  }

  /** Writes the start of the file; the error of a failed write, if any. */
  #writeStart(): unknown {
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
    return this.#write(bytes, bytes.length);
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
        messageCount: BigInt(this.#count) + BigInt(this.#events) + 1n,
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
          [EVENT_CHANNEL_ID, BigInt(this.#events)],
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

  /**
   * One record, one synchronous write. A short write (the kernel took fewer bytes, as when the
   * disk fills during it) is followed by a write of the rest, as long as each makes progress; a
   * write of 0 bytes is a failure (SHORT_WRITE). Returns the error of a failed write (the file
   * then ends in a torn record), or undefined; `#position` counts whole records only.
   */
  #write(bytes: Uint8Array, length: number): unknown {
    let done = 0;
    try {
      while (done < length) {
        const n = this.#fs.writeSync(this.#fd, bytes, done, length - done);
        if (!(n > 0)) {
          return Object.assign(
            new Error(`write took ${n} of ${length - done} bytes, making no progress`),
            { code: 'SHORT_WRITE' },
          );
        }
        done += n;
      }
    } catch (err) {
      return err ?? new Error('write failed');
    }
    this.#position += length;
    return undefined;
  }
}

function errnoCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code !== '' ? code : 'EUNKNOWN';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function schemaRecord(id: number, name: string, jsonSchema: object): Schema {
  return { id, name, encoding: SCHEMA_ENCODING, data: encoder.encode(JSON.stringify(jsonSchema)) };
}
