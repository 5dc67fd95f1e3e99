import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MpcdError } from '../core/errors.js';
import { scanTransitionLog, tornLogNote } from '../log/transition-log-reader.js';
import type { RunInfo } from '../log/transition-schema.js';
import type { ReplayBuffer } from './replay-buffer.js';

/** What the logs must have been recorded with for their transitions to train this model. */
export interface ExpectedRecording {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  /** Control period, s: the residual predicts one period ahead. */
  readonly period: number;
}

export interface LogIngest {
  /** Files read, oldest run first. */
  readonly files: string[];
  /**
   * Files that ended torn (the daemon stopped writing: disk full, killed, or still running):
   * their complete records were used. `transitions`: how many the file held; `note`: one line
   * that says so, for the log.
   */
  readonly torn: TornLog[];
  /** Transitions read from the files, and how many of them the buffer refused (flagged, non-finite). */
  readonly read: number;
  readonly skipped: number;
  /** Wall-clock seconds since the Unix epoch of the oldest and newest row left in the buffer. */
  readonly tFrom: number | undefined;
  readonly tTo: number | undefined;
}

export interface TornLog {
  file: string;
  transitions: number;
  note: string;
  damage?: string;
}

/** Every .mcap file named, or inside a named folder (recursively), sorted by path. */
export function findTransitionLogs(inputs: readonly string[]): string[] {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.mcap')) found.add(p);
    }
  };
  for (const input of inputs) {
    const abs = resolve(input);
    let isDir: boolean;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      throw new MpcdError('TRAIN_INPUT', `${input}: no such file or folder; name transition logs (.mcap) or folders that hold them`);
    }
    if (isDir) walk(abs);
    else found.add(abs);
  }
  if (found.size === 0) throw new MpcdError('TRAIN_INPUT', `no .mcap transition logs in ${inputs.join(', ')}`);
  return [...found].sort();
}

/**
 * Feeds the transitions of `files` into `buffer`, oldest run first (by run_info.start_time), so
 * the buffer's newest rows are the most recent transitions. Each file's run_info must name the
 * same states and actions, in the same order, at the same control period: otherwise an MpcdError
 * names the file. Torn tails are fine: their complete records are used, and `torn` says how
 * many each torn file held and why it ends early.
 */
export function readLogsIntoBuffer(files: readonly string[], expected: ExpectedRecording, buffer: ReplayBuffer): LogIngest {
  const runs = files.flatMap((file) => {
    const info = readRunInfo(file);
    if (info === undefined) return []; // cut off before run_info: it holds no transitions either
    checkRecording(file, info, expected);
    return [{ file, start: info.start_time ?? 0 }];
  });
  runs.sort((a, b) => a.start - b.start || a.file.localeCompare(b.file));

  const times: number[] = []; // per accepted row, to report the span of what the buffer holds
  const torn: TornLog[] = [];
  let read = 0;
  for (const run of runs) {
    const scan = scanTransitionLog(run.file, (tr) => {
      read++;
      if (buffer.add(tr)) times.push(run.start + tr.t);
    });
    const note = tornLogNote(run.file, scan);
    if (note !== undefined) torn.push({ file: run.file, transitions: scan.count, note, ...(scan.damage !== undefined ? { damage: scan.damage } : {}) });
  }
  const held = times.slice(times.length - buffer.size);
  return {
    files: runs.map((r) => r.file),
    torn,
    read,
    skipped: buffer.skipped,
    tFrom: held[0],
    tTo: held.at(-1),
  };
}

/**
 * A file's run_info. The reader hands run_info only with the finished scan, so this is a scan of
 * its own; offline training can afford reading each file twice, and memory stays bounded.
 */
function readRunInfo(file: string): RunInfo | undefined {
  return scanTransitionLog(file, () => {}).info;
}

function checkRecording(file: string, info: RunInfo, expected: ExpectedRecording): void {
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  if (!same(info.state_names, expected.stateNames) || !same(info.action_names, expected.actionNames))
    throw new MpcdError(
      'TRAIN_LOG_MISMATCH',
      `${file} was recorded with states [${info.state_names.join(', ')}] and actions [${info.action_names.join(', ')}], ` +
        `but the config's model has states [${expected.stateNames.join(', ')}] and actions [${expected.actionNames.join(', ')}]; ` +
        'train only on logs of this robot, or use its config',
    );
  if (Math.abs(info.control_period - expected.period) > 1e-9 * expected.period)
    throw new MpcdError(
      'TRAIN_LOG_MISMATCH',
      `${file} was recorded at a control period of ${info.control_period} s, but the config's control.period is ${expected.period} s; ` +
        'the residual predicts one period ahead, so train on logs recorded at the same period',
    );
}
