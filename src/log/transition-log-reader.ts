import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

import { MCAP_MAGIC, McapStreamReader } from '@mcap/core';
import type { TypedMcapRecord } from '@mcap/core';

import { MpcdError } from '../core/errors.js';
import { EVENT_TOPIC, RUN_INFO_TOPIC, TRANSITION_TOPIC } from './transition-schema.js';
import type { LogEvent, RunInfo, Transition } from './transition-schema.js';

/** What a scan of a transition log found, besides the transitions themselves. */
export interface TransitionLogScan {
  /** The run_info message, when the file got that far. */
  info: RunInfo | undefined;
  /** Transitions delivered. */
  count: number;
  /** Events (`/mpcd/events`) found; 0 in logs written before that channel existed. */
  eventCount: number;
  /** True when the file does not end in a valid footer (the writer died, or is still writing). */
  torn: boolean;
  /**
   * Length of the valid prefix: bytes of the file that parsed into complete records. Equals the
   * file size for a complete file; truncating a torn file to it leaves only whole records.
   */
  bytesRead: number;
  /**
   * Set when reading stopped at bytes that are not merely a cut-off record (corruption, trailing
   * garbage after the footer); the records before them are still returned.
   */
  damage?: string;
}

export interface TransitionLog extends Omit<TransitionLogScan, 'count' | 'eventCount'> {
  transitions: Transition[];
  /** The events on `/mpcd/events`, in file order; empty for logs without that channel. */
  events: LogEvent[];
}

const MAX_READ_BYTES = 1 << 20;
const MIN_READ_BYTES = 1 << 12;
const decoder = new TextDecoder();

/**
 * Reads a whole transition log into memory. Accepts a file cut off anywhere (no footer, half a
 * record at the end): returns every complete record before the cut and `torn: true`. Throws
 * MpcdError LOG_NOT_MCAP when the file does not start with the MCAP magic, LOG_READ when it
 * cannot be read.
 */
export function readTransitionLog(path: string): TransitionLog {
  const transitions: Transition[] = [];
  const events: LogEvent[] = [];
  const { info, torn, bytesRead, damage } = scanTransitionLog(
    path,
    (tr) => {
      transitions.push(tr);
    },
    (ev) => {
      events.push(ev);
    },
  );
  const log: TransitionLog = { info, transitions, events, torn, bytesRead };
  if (damage !== undefined) log.damage = damage;
  return log;
}

/**
 * One line that says what a torn scan means, for whoever reads a log to learn from it: how many
 * transitions it held, and that the file ends without its footer because the daemon stopped
 * writing it (disk full, killed, or still running), or where it is damaged. Undefined when the
 * file is complete.
 */
export function tornLogNote(path: string, scan: Pick<TransitionLogScan, 'count' | 'torn' | 'damage'>): string | undefined {
  if (!scan.torn) return undefined;
  if (scan.damage !== undefined)
    return `${path}: ${scan.count} transitions read, then the file is damaged (${scan.damage}); the records before the damage are used`;
  return (
    `${path}: ${scan.count} transitions read, then the file ends without its footer: the daemon ` +
    'stopped writing it (disk full or a write error, killed, or still running); those ' +
    `${scan.count} complete transitions are used`
  );
}

/**
 * Streams a transition log from disk in reads of at most 1 MiB, calling `onTransition` for
 * each complete transition and `onEvent` for each event, in file order; memory stays bounded
 * however big the file is. Same tolerance and errors as readTransitionLog. Errors thrown by the
 * callbacks propagate.
 */
export function scanTransitionLog(
  path: string,
  onTransition: (tr: Transition) => void,
  onEvent?: (ev: LogEvent) => void,
): TransitionLogScan {
  let fd: number;
  let size: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new MpcdError('LOG_READ', `Cannot open transition log ${path}: ${String(err)}`);
  }
  try {
    size = fstatSync(fd).size;
  } catch (err) {
    closeSync(fd);
    throw new MpcdError('LOG_READ', `Cannot read transition log ${path}: ${String(err)}`);
  }
  try {
    // Small files get a small buffer; a file still growing is read on in further chunks.
    const chunk = new Uint8Array(Math.min(MAX_READ_BYTES, Math.max(MIN_READ_BYTES, size)));
    return scanFd(fd, chunk, path, onTransition, onEvent);
  } finally {
    closeSync(fd);
  }
}

function scanFd(
  fd: number,
  chunk: Uint8Array,
  path: string,
  onTransition: (tr: Transition) => void,
  onEvent: ((ev: LogEvent) => void) | undefined,
): TransitionLogScan {
  const reader = new McapStreamReader({ validateCrcs: true });
  const topics = new Map<number, string>();
  let info: RunInfo | undefined;
  let count = 0;
  let eventCount = 0;
  let fed = 0;
  let validEnd = 0;
  let damage: string | undefined;

  reading: for (;;) {
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (err) {
      throw new MpcdError('LOG_READ', `Cannot read transition log ${path}: ${String(err)}`);
    }
    if (n === 0) break;
    if (fed < MCAP_MAGIC.length) checkMagic(chunk.subarray(0, n), fed, path);
    if (reader.done()) {
      damage = `${n}+ bytes after the footer`;
      break;
    }
    reader.append(chunk.subarray(0, n));
    fed += n;

    for (;;) {
      let record: TypedMcapRecord | undefined;
      try {
        record = reader.nextRecord();
      } catch (err) {
        // The stream reader cannot go on past bad bytes; keep what came before them.
        damage = err instanceof Error ? err.message : String(err);
        break reading;
      }
      if (record === undefined) break;
      // Opcode 0 is invalid in MCAP: zeros are the tail a power loss leaves; the data ends here.
      if (record.type === 'Unknown' && record.opcode === 0) break reading;
      const end = fed - reader.bytesRemaining();
      if (record.type === 'Channel') {
        topics.set(record.id, record.topic);
      } else if (record.type === 'Message') {
        const topic = topics.get(record.channelId);
        if (topic === TRANSITION_TOPIC) {
          const tr = decode(record.data);
          if (tr === undefined) {
            damage = `the transition record at byte ${validEnd} is not a JSON object`;
            break reading;
          }
          onTransition(restoreNonFinite(tr as unknown as Transition));
          count++;
        } else if (topic === EVENT_TOPIC) {
          const ev = decode(record.data);
          if (ev === undefined) {
            damage = `the event record at byte ${validEnd} is not a JSON object`;
            break reading;
          }
          onEvent?.(restoreEvent(ev));
          eventCount++;
        } else if (topic === RUN_INFO_TOPIC && info === undefined) {
          info = decode(record.data) as RunInfo | undefined;
        }
      }
      validEnd = end;
    }
  }

  const scan: TransitionLogScan = {
    info,
    count,
    eventCount,
    torn: !reader.done(),
    bytesRead: validEnd,
  };
  if (damage !== undefined) {
    scan.torn = true;
    scan.damage = `${path}: ${damage}`;
  }
  return scan;
}

/** Bad magic means "not MCAP at all"; a short prefix of the magic is a file cut off early. */
function checkMagic(bytes: Uint8Array, fed: number, path: string): void {
  for (let i = 0; i < bytes.length && fed + i < MCAP_MAGIC.length; i++) {
    if (bytes[i] !== MCAP_MAGIC[fed + i]) {
      throw new MpcdError(
        'LOG_NOT_MCAP',
        `${path} is not an MCAP file (it does not start with the MCAP magic bytes); ` +
          'expected a transition log written by mpcd',
      );
    }
  }
}

/** The JSON object in a message, or undefined when the bytes are not one. */
function decode(data: Uint8Array): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** An event as written: t back to NaN where it was non-finite, detail always an object. */
function restoreEvent(ev: Record<string, unknown>): LogEvent {
  const t = typeof ev['t'] === 'number' ? ev['t'] : NaN;
  const kind = typeof ev['kind'] === 'string' ? ev['kind'] : String(ev['kind']);
  const d = ev['detail'];
  const detail =
    typeof d === 'object' && d !== null && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
  return { t, kind, detail };
}

/** JSON wrote NaN and ±Infinity as null; give the numeric fields their NaN back. */
function restoreNonFinite(tr: Transition): Transition {
  if ((tr.t as number | null) === null) tr.t = NaN;
  if ((tr.cost as number | null) === null) tr.cost = NaN;
  nullsToNaN(tr.state);
  nullsToNaN(tr.action);
  nullsToNaN(tr.next_state);
  return tr;
}

function nullsToNaN(values: (number | null)[] | undefined): void {
  if (!Array.isArray(values)) return;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null) values[i] = NaN;
  }
}
