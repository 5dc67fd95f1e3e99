/**
 * An upper bound on the offset between two clocks (receiver − sender), from one-way messages:
 * the smallest (receive time − sender stamp) seen so far. The fastest message bounds the offset
 * from above; a message that sat in a queue then shows its age above it.
 *
 * The bound relaxes at `driftAllowance` (s per s, default 500 ppm, more than two crystal clocks
 * drift apart): without that, a sender clock running slower than the receiver's makes every
 * later message look older by drift x run time.
 *
 * Both sides use it: the robot for the daemon's commands (CommandGate), the daemon for the
 * robot's readings (StampPolicy).
 */
export class ClockOffsetBound {
  private offset = Infinity; // receiver − sender, s
  private at = 0; // receiver time of the last update, s

  constructor(private readonly driftAllowance = 5e-4) {}

  /** The bound as of the last message (Infinity before the first): after `observe(…, now)`, the bound at `now`. */
  get value(): number {
    return this.offset;
  }

  /** No message seen since construction or `reset`. */
  get empty(): boolean {
    return this.offset === Infinity;
  }

  /** The bound at receiver time `now`, relaxed since the last message; Infinity before the first. */
  boundAt(now: number): number {
    return this.offset === Infinity ? Infinity : this.offset + this.driftAllowance * Math.max(0, now - this.at);
  }

  /** One message: `sample` = receive time − sender stamp, received at `now`. Non-finite input is ignored (Math.min with NaN would poison every later bound). */
  observe(sample: number, now: number): void {
    if (!Number.isFinite(sample) || !Number.isFinite(now)) return;
    this.offset = Math.min(this.boundAt(now), sample);
    this.at = now;
  }

  reset(): void {
    this.offset = Infinity;
    this.at = 0;
  }
}
