/**
 * Shared memory that tells a refit running next to a real-time control loop when the planner
 * computes, so that it trains only between ticks: the planner marks each optimization's start
 * and end, the refit worker calls `waitForRoom` before each training batch. A batch that would
 * still be running when the next tick's planning starts waits for that tick to be planned, so
 * the planner's p99 does not pay for a trainer sharing its cores, caches and memory bandwidth,
 * while training still uses the idle part of every period (most of it at 50 Hz).
 *
 * Times are process.hrtime nanoseconds, one clock for every thread.
 */
export class PlanningGate {
  private readonly flag: Int32Array; // [1]: 1 while planning
  private readonly times: BigInt64Array; // [1]: when the last planning started, ns

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(16)) {
    this.flag = new Int32Array(buffer, 0, 1);
    this.times = new BigInt64Array(buffer, 8, 1);
  }

  /** Planner side: a tick's planning starts (true) or ends (false). */
  set(planning: boolean): void {
    if (planning) Atomics.store(this.times, 0, process.hrtime.bigint());
    Atomics.store(this.flag, 0, planning ? 1 : 0);
    if (!planning) Atomics.notify(this.flag, 0);
  }

  /**
   * Trainer side: returns when a batch of about `batchMs` can run before the next tick's
   * planning, which starts `periodMs` after the last one. Never waits more than `maxMs` in all,
   * so a planner that stopped cannot stall training for good.
   */
  waitForRoom(periodMs: number, batchMs: number, maxMs = 3 * periodMs): void {
    const deadline = performance.now() + maxMs;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      if (Atomics.load(this.flag, 0) === 1) {
        Atomics.wait(this.flag, 0, 1, left);
        continue;
      }
      const sinceStart = Number(process.hrtime.bigint() - Atomics.load(this.times, 0)) / 1e6;
      const untilNext = periodMs - (sinceStart % periodMs);
      if (untilNext > batchMs) return;
      // Too close to the next tick: sit it out, then wait for that tick's planning to end.
      Atomics.wait(this.flag, 0, 0, Math.min(untilNext + 1, left));
    }
  }
}
