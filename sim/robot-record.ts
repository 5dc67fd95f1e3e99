import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { MpcdError } from '../src/core/errors.js';
import type { CommandVerdict } from '../src/io/command-envelope.js';

/** Why the robot holds its safe action. */
export type SafeReason = 'expired' | 'disarmed' | 'estop' | 'link_timeout' | 'reset';

/**
 * What the virtual robot did, one JSON line per event, so that tests can assert what the robot
 * actually received and applied. `t` is the robot's monotonic time in seconds (for `safe`, the
 * physics period boundary from which the safe action holds), `wall` the Unix time in ms
 * (comparable across processes).
 */
export type RobotRecordEvent =
  | { ev: 'ready'; transport: 'mqtt' | 'serial'; period: number; safe_action: number[] }
  /** Every command received: what the CommandGate said, whether it was applied (armed, not e-stopped), its age by the robot's clock-offset estimate, and the robot-time expiry of an applied one. */
  | { ev: 'cmd'; seq: number; stamp: number; ttl: number; u: number[]; verdict: CommandVerdict; applied: boolean; age: number; expiry?: number }
  /** The safe action took over (from a command, or on a state change); `expiry` of the last command when it expired. */
  | { ev: 'safe'; reason: SafeReason; u: number[]; expiry?: number }
  | { ev: 'arm' | 'disarm' | 'estop' }
  | { ev: 'reset'; x0: number[] }
  | { ev: 'link_timeout'; quiet: number }
  | { ev: 'daemon_session' }
  | { ev: 'fault'; spec: string; active: boolean }
  | { ev: 'stop'; published: number; faults: Record<string, number>; link_dropped: number };

export type RobotRecord = RobotRecordEvent & { t: number; wall: number };

/** Appends records with synchronous writes: a robot killed mid-run loses nothing it recorded. */
export class RobotRecorder {
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    private readonly clock: () => number,
  ) {
    try {
      this.fd = openSync(path, 'a');
    } catch (err) {
      throw new MpcdError('ROBOT_RECORD', `cannot open the record file ${path}: ${(err as Error).message}; check the folder exists and is writable`);
    }
  }

  static open(path: string, clock: () => number): RobotRecorder {
    return new RobotRecorder(path, clock);
  }

  /** `t` defaults to now on the robot's clock. */
  write(event: RobotRecordEvent, t = this.clock()): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, `${JSON.stringify({ t, wall: Date.now(), ...event })}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Reads a record file; a torn last line (a killed robot) is skipped. */
export function readRobotRecord(path: string): RobotRecord[] {
  const out: RobotRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as RobotRecord);
    } catch {
      // the line being written when the robot died
    }
  }
  return out;
}
