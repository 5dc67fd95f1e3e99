import { ClockOffsetBound } from './clock-offset.js';

/**
 * The envelope every action command travels in, on every transport. The robot applies a
 * command only if it is newer than the last one applied (seq) and younger than its ttl, and
 * falls back to its safe action when the last command expires: a reconnect that delivers old
 * commands, or a daemon that stalls, can never move the robot.
 */
export interface StampedEnvelope {
  /** Strictly increasing per sender run (uint32, wraps are not expected within a run). */
  readonly seq: number;
  /** The sender's monotonic time at send, seconds. */
  readonly stamp: number;
  /** Seconds after `stamp` the message may still be applied. */
  readonly ttl: number;
}

export interface CommandEnvelope extends StampedEnvelope {
  /** The action [actionDim], in the config's action order, SI units. */
  readonly u: readonly number[];
}

/** Why the robot side refused a command. `malformed`: a non-finite stamp or ttl, or a seq that is not an integer. */
export type CommandVerdict = 'apply' | 'duplicate_or_old' | 'stale' | 'malformed';

/**
 * The robot side's check (and the daemon's, for goals from the robot's other software: the
 * same rules with the roles swapped). The robot cannot read the daemon's clock, so it estimates the offset
 * between the two clocks as the smallest (receive time - stamp) seen so far: the fastest message
 * bounds the offset from above, and a queued (late) message then shows its true age.
 *
 * The bound relaxes at `driftAllowance` (ClockOffsetBound): without that, a robot clock running
 * faster than the daemon's makes every command look older by drift x run time, and after some
 * minutes every command is stale.
 */
export class CommandGate {
  private lastSeq = -1;
  private readonly offset: ClockOffsetBound; // robot clock - daemon clock, upper bound

  constructor(driftAllowance = 5e-4) {
    this.offset = new ClockOffsetBound(driftAllowance);
  }

  /** `now` is the robot's monotonic time of receipt, seconds. */
  check(cmd: StampedEnvelope, now: number): CommandVerdict {
    // A NaN stamp must not reach the offset: Math.min(x, NaN) is NaN, and every later age would be NaN, never stale.
    if (!Number.isInteger(cmd.seq) || !Number.isFinite(cmd.stamp) || !(cmd.ttl >= 0 && Number.isFinite(cmd.ttl)) || !Number.isFinite(now)) {
      return 'malformed';
    }
    this.observeClock(cmd.stamp, now);
    if (cmd.seq <= this.lastSeq) return 'duplicate_or_old';
    const age = now - cmd.stamp - this.offset.value;
    if (age > cmd.ttl) return 'stale';
    this.lastSeq = cmd.seq;
    return 'apply';
  }

  /** Any other daemon-stamped message (a heartbeat) tightens the clock-offset estimate too. */
  observeClock(daemonStamp: number, now: number): void {
    this.offset.observe(now - daemonStamp, now);
  }

  /** The daemon restarted (a new session): accept its sequence from the start. */
  reset(): void {
    this.lastSeq = -1;
    this.offset.reset();
  }
}
