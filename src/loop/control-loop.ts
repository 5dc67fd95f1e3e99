import { Observable, defer, of, type ObservableInput, type SchedulerLike, filter, map } from 'rxjs';
import type { PlantPort } from '../io/plant.js';
import { TransitionFlags } from '../log/transition-schema.js';
import type { Planner } from '../planning/planner.js';
import type { ActionFilter } from '../safety/action-filter.js';
import { exhaustMapCounting } from './exhaust-map-counting.js';
import { fixedRateTicks, type Tick } from './fixed-rate-ticks.js';
import { StateAssembler } from './state-assembler.js';

/** Bits of ControlStep.flags set by the loop itself; the action filter adds FilterFlags. */
export const StepFlags = {
  ticks_dropped_before: TransitionFlags.ticks_dropped_before,
  episode_end: TransitionFlags.episode_end,
} as const;

/** One served control tick. */
export interface ControlStep {
  readonly index: number; // tick slot
  readonly due: number; // scheduler ms
  readonly state: Float32Array; // [nx] copy of the assembled state the plan started from
  readonly stateStamp: number; // plant time of the oldest channel, s
  /** [nu] the action sent after the safety filter; undefined on the final tick, which only observes. */
  readonly action: Float32Array | undefined;
  readonly flags: number;
  readonly planMs: number; // wall-clock time spent planning
  /** Ticks dropped (planner busy) or missed (loop late) since the previous served tick. */
  readonly dropped: number;
}

/** The planning stage: from a state to an action [nu]; may take time (then ticks are dropped). */
export type PlanStage = (state: Float32Array, elapsedPeriods: number) => ObservableInput<{ action: Float32Array; planMs: number }>;

/** A synchronous planning stage around a Planner: warm-start shift, optimize, first action. */
export function plannerStage(planner: Planner): PlanStage {
  const action = new Float32Array(planner.actionDim);
  let first = true;
  return (state, elapsed) =>
    defer(() => {
      const t0 = performance.now();
      if (!first) planner.advance(elapsed);
      first = false;
      planner.optimize(state);
      planner.action(action);
      return of({ action, planMs: performance.now() - t0 });
    });
}

export interface ControlLoopOptions {
  plant: PlantPort;
  stateDim: number;
  periodMs: number;
  scheduler: SchedulerLike;
  /** Control periods in the episode; the loop serves ticks 0..steps, the last one only observing. */
  steps: number;
  plan: PlanStage;
  filter: ActionFilter;
}

/**
 * The RxJS control pipeline: plant observations -> latest-value state assembly; a drift-free
 * fixed-rate tick -> (once every channel has reported) the planner behind exhaustMap, with
 * dropped ticks counted -> safety filter -> the plant's non-blocking send. Emits one ControlStep
 * per served tick; a tap downstream logs transitions.
 */
export function controlLoop(opts: ControlLoopOptions): Observable<ControlStep> {
  return new Observable<ControlStep>((subscriber) => {
    const assembler = new StateAssembler(opts.stateDim, opts.plant.channels);
    const obsSub = opts.plant.observations$.subscribe((o) => assembler.accept(o));
    let lastServed = -1;
    let droppedSince = 0;
    const steps$ = fixedRateTicks(opts.periodMs, opts.scheduler, opts.steps + 1).pipe(
      filter((tick) => {
        droppedSince += tick.missed;
        if (assembler.complete) return true;
        droppedSince = 0; // nothing to control before the first full state
        return false;
      }),
      exhaustMapCounting(
        (tick: Tick) => {
          const state = Float32Array.from(assembler.state);
          const stateStamp = assembler.oldestStamp;
          const elapsed = lastServed < 0 ? 1 : tick.index - lastServed;
          const dropped = droppedSince;
          droppedSince = 0;
          lastServed = tick.index;
          const base = dropped > 0 ? StepFlags.ticks_dropped_before : 0;
          if (tick.index >= opts.steps) {
            const step: ControlStep = { index: tick.index, due: tick.due, state, stateStamp, action: undefined, flags: base | StepFlags.episode_end, planMs: 0, dropped };
            return of(step);
          }
          return defer(() => opts.plan(state, elapsed)).pipe(
            map(({ action, planMs }) => {
              const sent = Float32Array.from(action);
              const flags = base | opts.filter.apply(sent);
              opts.plant.send(sent);
              const step: ControlStep = { index: tick.index, due: tick.due, state, stateStamp, action: sent, flags, planMs, dropped };
              return step;
            }),
          );
        },
        () => droppedSince++,
      ),
    );
    const sub = steps$.subscribe(subscriber);
    return () => {
      sub.unsubscribe();
      obsSub.unsubscribe();
    };
  });
}
