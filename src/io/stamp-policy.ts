import { ClockOffsetBound } from './clock-offset.js';

/**
 * The one policy by which every wire link (MQTT, serial) judges the stamps a robot puts on its
 * readings. A robot's clock is not the daemon's: it starts at 0 when the robot boots, it can be
 * stepped by NTP or an RTC correction, and a bit flip can put any number in a stamp. None of
 * these may leave the daemon blind for longer than a few readings.
 *
 * Per sensor channel (channels may come from different boards with different clocks), within
 * one robot session:
 * - The robot's clock is estimated against the daemon's: a ClockOffsetBound over accepted
 *   readings (the smallest receive − stamp, relaxed by `driftAllowance`; the robot's
 *   CommandGate keeps the same bound for commands).
 * - `stamp_in_future`: a stamp further ahead of the robot's estimated now than `maxStampLead`
 *   is dropped and never becomes the channel's watermark.
 * - `not_newer`: a stamp not greater than the channel's last accepted one is dropped
 *   (a duplicate, a reordered message, a frozen sensor).
 * - Clock step: `clockStepReadings` dropped readings in a row that advance among themselves,
 *   agree on their (receive − stamp) within `maxStampLead`, and arrive at the pace their
 *   stamps advance (a replayed burst does not) are a clock that moved for good: the channel
 *   re-bases on them, reports the jump, and the last of them is accepted.
 * - `newSession()` (a robot reboot) forgets every channel's clock and watermark at once.
 *
 * Accepted stamps are handed on in the daemon's clock: the robot's stamp plus the
 * (receive − stamp) of the first reading of the current base. So they never go backwards
 * across a re-base or a reboot (the base is raised where needed), and every channel's stamps
 * are on one time line. Within a base the robot's clock rate is trusted (crystal drift of
 * well under 0.1 % over an episode is below anything the loop can see).
 */

export type StampDropReason = 'stamp_in_future' | 'not_newer';

export type StampVerdict =
  | { readonly ok: true; /** daemon clock, s */ readonly stamp: number }
  | { readonly ok: false; readonly reason: StampDropReason };

/** A channel's clock moved for good: `jump` s (positive: the robot's clock went forward). */
export interface ClockStep {
  readonly channel: string;
  readonly jump: number;
  /** Readings dropped before the step was declared (the last one is accepted). */
  readonly dropped: number;
}

export interface StampPolicyOptions {
  /** s a stamp may be ahead of the robot's estimated now. */
  readonly maxStampLead: number;
  /** Consistent dropped readings in a row that declare a clock step (>= 2). */
  readonly clockStepReadings: number;
  /** s per s the offset bound relaxes (robot and daemon crystals drift apart); default 500 ppm. */
  readonly driftAllowance?: number;
  readonly onClockStep?: (step: ClockStep) => void;
}

/** Default `max_stamp_lead`, in control periods. */
export const DEFAULT_STAMP_LEAD_PERIODS = 3;
/** Default `clock_step_readings` covers about this much of a channel's readings at the control rate, s. */
const CLOCK_STEP_WINDOW_S = 0.05;

/** The defaults of the two config fields for a loop at `controlPeriod` s. */
export function defaultStampLimits(controlPeriod: number): { maxStampLead: number; clockStepReadings: number } {
  return {
    maxStampLead: DEFAULT_STAMP_LEAD_PERIODS * controlPeriod,
    clockStepReadings: Math.max(2, Math.ceil(CLOCK_STEP_WINDOW_S / controlPeriod - 1e-9)),
  };
}

/** Dropped readings of one channel that may turn out to be a clock step. */
interface StepCandidate {
  count: number;
  offset: number; // smallest (receive − stamp) among them, s
  firstStamp: number;
  firstReceive: number;
  lastStamp: number;
}

class ChannelClock {
  readonly offset: ClockOffsetBound; // (daemon − robot) bound over the base's accepted readings; empty before the first
  base = NaN; // added to robot stamps to get daemon-clock stamps, s
  watermark = -Infinity; // last accepted robot stamp, s
  lastOut = -Infinity; // last stamp handed on (daemon clock), survives re-bases and sessions
  candidate: StepCandidate | undefined;

  constructor(driftAllowance: number) {
    this.offset = new ClockOffsetBound(driftAllowance);
  }

  /** Forget the robot's clock (a new session or a re-base); what was handed on stays the floor. */
  forget(): void {
    this.offset.reset();
    this.base = NaN;
    this.watermark = -Infinity;
    this.candidate = undefined;
  }
}

export class StampPolicy {
  private readonly channels = new Map<string, ChannelClock>();
  private readonly drift: number;

  constructor(private readonly opts: StampPolicyOptions) {
    if (!(opts.maxStampLead > 0)) throw new RangeError(`maxStampLead must be positive, got ${opts.maxStampLead}`);
    if (!(Number.isInteger(opts.clockStepReadings) && opts.clockStepReadings >= 2)) {
      throw new RangeError(`clockStepReadings must be an integer >= 2, got ${opts.clockStepReadings}`);
    }
    this.drift = opts.driftAllowance ?? 5e-4;
  }

  /**
   * Judges one reading: `stamp` on the robot's clock, `now` the daemon's monotonic time of
   * receipt, both in s and finite (the decoders refuse non-finite numbers before this).
   */
  judge(channel: string, stamp: number, now: number): StampVerdict {
    let c = this.channels.get(channel);
    if (c === undefined) this.channels.set(channel, (c = new ChannelClock(this.drift)));
    const sample = now - stamp;
    if (c.offset.empty) return this.accept(c, stamp, now, sample, true);
    const bound = c.offset.boundAt(now);
    // How far the stamp is ahead of the robot's estimated now (now − bound).
    const lead = bound - sample;
    if (lead > this.opts.maxStampLead) return this.suspect(c, channel, stamp, now, sample, 'stamp_in_future');
    if (!(stamp > c.watermark)) return this.suspect(c, channel, stamp, now, sample, 'not_newer');
    c.candidate = undefined;
    c.offset.observe(sample, now);
    return this.accept(c, stamp, now, sample, false);
  }

  /** The robot started a new session (rebooted): every channel's clock and watermark start afresh. */
  newSession(): void {
    for (const c of this.channels.values()) c.forget();
  }

  private accept(c: ChannelClock, stamp: number, now: number, sample: number, newBase: boolean): StampVerdict {
    if (newBase) {
      c.offset.observe(sample, now);
      c.candidate = undefined;
      // Daemon time of arrival, but never before what was already handed on.
      c.base = Math.max(sample, nextAfter(c.lastOut) - stamp);
    }
    c.watermark = stamp;
    let out = stamp + c.base;
    if (!(out > c.lastOut)) out = nextAfter(c.lastOut);
    c.lastOut = out;
    return { ok: true, stamp: out };
  }

  private suspect(c: ChannelClock, channel: string, stamp: number, now: number, sample: number, reason: StampDropReason): StampVerdict {
    const k = c.candidate;
    const tolerance = this.opts.maxStampLead;
    const continues =
      k !== undefined &&
      stamp > k.lastStamp &&
      Math.abs(sample - k.offset) <= tolerance &&
      // Arriving at the pace of the stamps: a replayed backlog comes in a burst.
      now - k.firstReceive >= 0.5 * (stamp - k.firstStamp);
    if (!continues) {
      c.candidate = { count: 1, offset: sample, firstStamp: stamp, firstReceive: now, lastStamp: stamp };
      return { ok: false, reason };
    }
    k.count++;
    k.offset = Math.min(k.offset, sample);
    k.lastStamp = stamp;
    if (k.count < this.opts.clockStepReadings) return { ok: false, reason };
    // Positive when the robot's clock went forward: its stamps grew, receive − stamp shrank.
    const jump = c.offset.value - k.offset;
    c.forget();
    this.opts.onClockStep?.({ channel, jump, dropped: k.count - 1 });
    return this.accept(c, stamp, now, sample, true);
  }
}

/** The smallest double above `x` that still differs from it at a microsecond scale. */
function nextAfter(x: number): number {
  return x === -Infinity ? -Infinity : x + Math.max(1e-9, Math.abs(x) * 1e-15);
}
