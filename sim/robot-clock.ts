import type { SchedulerLike } from 'rxjs';

/**
 * The virtual robot's own monotonic clock, s: the host's clock (the scheduler's) plus what the
 * clock faults did to it. A robot's stamps, its command expiry and its watchdogs all read this
 * one clock, so a step moves them together, as it would on a board whose clock was set.
 */
export class RobotClock {
  private offset: number; // robot − host, s

  /** `startAt`: what the clock reads at host time 0 (a robot that has been up a while). */
  constructor(
    private readonly scheduler: SchedulerLike,
    startAt = 0,
  ) {
    this.offset = startAt;
  }

  now(): number {
    return this.scheduler.now() / 1000 + this.offset;
  }

  /** The clock jumps by `jump` s for good (an NTP or RTC correction). */
  step(jump: number): void {
    this.offset += jump;
  }

  /** A new boot: the clock reads 0 from here. Returns the jump, s. */
  restart(): number {
    const jump = -this.now();
    this.offset += jump;
    return jump;
  }
}
