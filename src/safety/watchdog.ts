import { MpcdError } from '../core/errors.js';

/**
 * The watchdog's two clocks, both on the daemon's scheduler (never the robot's stamps: robot
 * clocks are not synchronised with ours, and a robot whose clock stalls must still look stale):
 * - per sensor channel, the age of its last accepted reading, taken at arrival;
 * - per tick, the planning deadline, counted from the tick's due time, so that an action that
 *   would go out later than `deadlineMs` after its tick is not sent.
 */
export class Watchdog {
  private readonly arrival = new Map<string, number>(); // scheduler ms of the last accepted reading
  private readonly maxAge = new Map<string, number>(); // ms

  constructor(
    readonly channels: readonly string[],
    maxAgeMs: Readonly<Record<string, number>>,
    defaultMaxAgeMs: number,
    readonly deadlineMs: number,
  ) {
    const unknown = Object.keys(maxAgeMs).filter((c) => !channels.includes(c));
    if (unknown.length > 0) {
      throw new MpcdError(
        'SAFETY_CHANNEL',
        `safety.max_age names ${unknown.map((c) => `'${c}'`).join(', ')}, which this plant does not have; its channels are: ${channels.join(', ')}`,
      );
    }
    if (!(defaultMaxAgeMs > 0) || !(deadlineMs > 0)) {
      throw new MpcdError('SAFETY_LIMITS', `safety: max age (${defaultMaxAgeMs} ms) and deadline (${deadlineMs} ms) must be positive`);
    }
    for (const c of channels) this.maxAge.set(c, maxAgeMs[c] ?? defaultMaxAgeMs);
  }

  /** A new session starts: every channel's age counts from now, as if it had just reported. */
  start(now: number): void {
    for (const c of this.channels) this.arrival.set(c, now);
  }

  /** An accepted reading of `channel` arrived at `now`. */
  onReading(channel: string, now: number): void {
    if (this.arrival.has(channel)) this.arrival.set(channel, now);
  }

  /** No reading for longer than the channel's max age. */
  isStale(channel: string, now: number): boolean {
    const at = this.arrival.get(channel);
    return at === undefined || now - at > this.maxAge.get(channel)!;
  }

  /** Milliseconds since the channel's last reading. */
  age(channel: string, now: number): number {
    return now - (this.arrival.get(channel) ?? -Infinity);
  }

  /** Scheduler time by which the action of the tick due at `due` must go out. */
  deadline(due: number): number {
    return due + this.deadlineMs;
  }
}
