import { Observable, type ObservableInput, type OperatorFunction, from } from 'rxjs';

/**
 * exhaustMap that counts what it drops: while the inner work for one value is running, values
 * that arrive are dropped and `onDrop` is called for each (a planner overrun drops ticks).
 */
export function exhaustMapCounting<T, R>(
  project: (value: T) => ObservableInput<R>,
  onDrop: (value: T) => void,
): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      let busy = false;
      let outerDone = false;
      const inner = { unsubscribe: (): void => {} };
      const outer = source.subscribe({
        next(value) {
          if (busy) {
            onDrop(value);
            return;
          }
          busy = true;
          const sub = from(project(value)).subscribe({
            next: (r) => subscriber.next(r),
            error: (e: unknown) => subscriber.error(e),
            complete: () => {
              busy = false;
              if (outerDone) subscriber.complete();
            },
          });
          inner.unsubscribe = () => sub.unsubscribe();
        },
        error: (e: unknown) => subscriber.error(e),
        complete() {
          outerDone = true;
          if (!busy) subscriber.complete();
        },
      });
      return () => {
        outer.unsubscribe();
        inner.unsubscribe();
      };
    });
}
