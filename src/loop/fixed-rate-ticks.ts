import { Observable, type SchedulerAction, type SchedulerLike } from 'rxjs';

export interface Tick {
  /** Slot number since the start: tick n is due at start + n * period. */
  readonly index: number;
  /** Due time of the slot, in the scheduler's milliseconds. */
  readonly due: number;
  /** Slots that passed unserved before this one (the loop was late). */
  readonly missed: number;
}

/**
 * A drift-free fixed-rate tick: every slot's due time is computed from the start time and the
 * slot number, never from the previous firing, so timer jitter does not accumulate. When the
 * process was blocked past one or more slots they are skipped and reported in `missed`.
 * With `count`, completes after slot count-1. `startAt` (scheduler ms) sets slot 0's due time, to
 * put the ticks in a phase with something else on the same clock; default: at subscription.
 */
export function fixedRateTicks(periodMs: number, scheduler: SchedulerLike, count = Infinity, startAt?: number): Observable<Tick> {
  return new Observable<Tick>((subscriber) => {
    const start = startAt ?? scheduler.now();
    let next = 0;
    const fire = function (this: SchedulerAction<undefined>): void {
      const late = Math.floor((scheduler.now() - start) / periodMs + 1e-9);
      const index = Math.max(next, late);
      if (index >= count) {
        subscriber.complete();
        return;
      }
      subscriber.next({ index, due: start + index * periodMs, missed: index - next });
      next = index + 1;
      if (next >= count) {
        subscriber.complete();
        return;
      }
      if (!subscriber.closed) this.schedule(undefined, Math.max(0, start + next * periodMs - scheduler.now()));
    };
    const action = scheduler.schedule(fire, Math.max(0, start - scheduler.now()));
    return () => action.unsubscribe();
  });
}
