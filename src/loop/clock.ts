import { Subscription, VirtualTimeScheduler, type SchedulerAction, type SchedulerLike } from 'rxjs';

/**
 * Real-time scheduler on the monotonic clock (performance.now, never the wall clock, which can
 * jump). Each action is one setTimeout; callers compute absolute due times themselves (see
 * fixedRateTicks), so timer jitter never accumulates.
 */
export class MonotonicScheduler implements SchedulerLike {
  now(): number {
    return performance.now();
  }

  schedule<T>(work: (this: SchedulerAction<T>, state: T) => void, delay = 0, state?: T): Subscription {
    return new TimeoutAction(work, delay, state as T);
  }
}

class TimeoutAction<T> extends Subscription implements SchedulerAction<T> {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly work: (this: SchedulerAction<T>, state: T) => void,
    delay: number,
    state: T,
  ) {
    super(() => clearTimeout(this.timer));
    this.schedule(state, delay);
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.work.call(this, state as T);
    }, delay);
    return this;
  }
}

/** Virtual time: runs as fast as the work allows, for lock-step simulation and deterministic tests. */
export function virtualScheduler(): VirtualTimeScheduler {
  return new VirtualTimeScheduler(undefined, Infinity);
}
