import { Observable, catchError, defaultIfEmpty, defer, filter, map, of, take, timeout, type ObservableInput, type SchedulerLike } from 'rxjs';
import { MpcdError } from '../core/errors.js';
import type { PlantPort } from '../io/plant.js';
import { TransitionFlags } from '../log/transition-schema.js';
import type { Planner } from '../planning/planner.js';
import type { ActionFilter } from '../safety/action-filter.js';
import { defaultSafetyConfig } from '../safety/safety-config.js';
import { SafetySupervisor, type PlanOutcome } from '../safety/safety-supervisor.js';
import { exhaustMapCounting } from './exhaust-map-counting.js';
import { fixedRateTicks, type Tick } from './fixed-rate-ticks.js';
import type { ReadingCounters } from './link-stats.js';
import { StateAssembler } from './state-assembler.js';

/** Bits of ControlStep.flags set by the loop itself; the action filter adds FilterFlags (safe_action_sent among them). */
export const StepFlags = {
  ticks_dropped_before: TransitionFlags.ticks_dropped_before,
  episode_end: TransitionFlags.episode_end,
  /** A sensor channel was older than its max age at this tick. */
  stale_state: TransitionFlags.stale_state,
  /** The safety layer was faulted when this tick's action went out. */
  faulted: TransitionFlags.faulted,
} as const;

/** One served control tick. */
export interface ControlStep {
  readonly index: number; // tick slot
  readonly due: number; // scheduler ms
  readonly state: Float32Array; // [nx] copy of the assembled state the plan started from
  readonly stateStamp: number; // plant time of the oldest channel, s
  /** [nu] the action sent (the plan's or the safe one) after the filter; undefined on the final tick, which only observes. */
  readonly action: Float32Array | undefined;
  readonly flags: number;
  readonly planMs: number; // wall-clock time spent planning (scheduler time to the cut-off when late or failed)
  /** Ticks dropped (planner busy) or missed (loop late) since the previous served tick. */
  readonly dropped: number;
}

/** The planning stage: from a state to an action [nu]; may take time (then ticks are dropped). */
export type PlanStage = (state: Float32Array, elapsedPeriods: number) => ObservableInput<{ action: Float32Array; planMs: number }>;

/**
 * A synchronous planning stage around a Planner: warm-start shift, optimize, first action.
 * `planning` hears when each tick's planning starts and ends (a refit trains only between).
 */
export function plannerStage(planner: Planner, planning?: (busy: boolean) => void): PlanStage {
  const action = new Float32Array(planner.actionDim);
  let first = true;
  return (state, elapsed) =>
    defer(() => {
      planning?.(true);
      const t0 = performance.now();
      if (!first) planner.advance(elapsed);
      first = false;
      try {
        planner.optimize(state);
      } finally {
        planning?.(false);
      }
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
  /**
   * The safety layer. Default: one made for this session with the default rules (armed on
   * start, channels stale after 3 periods, a 1-period deadline, the filter's safe action),
   * closed when the session ends. Pass one built with `SafetySupervisor.fromConfig` to use the
   * config's rules and to keep its faults and counts across sessions.
   */
  safety?: SafetySupervisor;
  /** Scheduler time of tick 0 (default: at subscription), to tick in phase with a plant's samples. */
  firstTickAt?: number;
  /** Counts readings a newer one replaced before any tick read them (LinkStats.readings). */
  readings?: ReadingCounters;
}

/** The planning stage's result when it ran past its deadline (it is cut off there). */
const LATE: PlanOutcome = { kind: 'late' };
/** A planning stage that completed without an action is a planner error. */
const EMPTY_PLAN: PlanOutcome = { kind: 'failed', error: new Error('the planning stage completed without an action') };

/**
 * The RxJS control pipeline: plant observations -> latest-value state assembly; a drift-free
 * fixed-rate tick (each one beats the plant's heartbeat) -> (once every channel has reported)
 * the planner behind exhaustMap, with dropped ticks counted, cut off at its deadline -> the
 * safety supervisor, which picks the plan's action or the safe action -> the action filter,
 * always last -> the plant's non-blocking send. Emits one ControlStep per served tick, planned
 * or safe, flagged; a tap downstream logs transitions.
 */
export function controlLoop(opts: ControlLoopOptions): Observable<ControlStep> {
  return new Observable<ControlStep>((subscriber) => {
    const { plant, scheduler } = opts;
    const ownSafety = opts.safety === undefined;
    const safety =
      opts.safety ?? new SafetySupervisor({ plant, config: defaultSafetyConfig(opts.periodMs), safeAction: opts.filter.safeAction });
    const nu = opts.filter.actionDim;
    if (safety.actionDim !== nu) {
      subscriber.error(new MpcdError('SAFETY_ACTION_DIM', `the safe action has ${safety.actionDim} values but the action filter ${nu}; build both from the same action names`));
      return undefined;
    }
    const assembler = new StateAssembler(opts.stateDim, plant.channels, opts.readings);
    const session = safety.attach(scheduler);
    const obsSub = plant.observations$.subscribe((o) => {
      if (assembler.accept(o)) safety.onReading(o.channel);
    });
    let lastServed = -1;
    let droppedSince = 0;
    const steps$ = fixedRateTicks(opts.periodMs, scheduler, opts.steps + 1, opts.firstTickAt).pipe(
      filter((tick) => {
        plant.heartbeat?.();
        droppedSince += tick.missed;
        if (assembler.complete) return true;
        // Nothing to control (and no transition to log) before the first full state; the
        // watchdog still runs, so a channel that never reports is reported.
        safety.beginTick(tick.index, false);
        droppedSince = 0;
        return false;
      }),
      exhaustMapCounting(
        (tick: Tick) => {
          const stale = safety.beginTick(tick.index, true);
          const state = Float32Array.from(assembler.state);
          assembler.markRead();
          const stateStamp = assembler.oldestStamp;
          const elapsed = lastServed < 0 ? 1 : tick.index - lastServed;
          const dropped = droppedSince;
          droppedSince = 0;
          lastServed = tick.index;
          const base = (dropped > 0 ? StepFlags.ticks_dropped_before : 0) | (stale ? StepFlags.stale_state : 0);
          if (tick.index >= opts.steps) {
            const flags = base | StepFlags.episode_end | (safety.faulted ? StepFlags.faulted : 0);
            const step: ControlStep = { index: tick.index, due: tick.due, state, stateStamp, action: undefined, flags, planMs: 0, dropped };
            return of(step);
          }
          const deadline = safety.deadline(tick.due);
          const started = scheduler.now();
          return defer(() => opts.plan(state, elapsed)).pipe(
            take(1),
            map(({ action, planMs }): PlanOutcome =>
              // A plan that blocked past its deadline (a synchronous planner in real time) is late too.
              scheduler.now() > deadline ? LATE : { kind: 'planned', action, planMs },
            ),
            timeout({ first: Math.max(0, deadline - scheduler.now()), scheduler, with: () => of(LATE) }),
            catchError((error: unknown) => of<PlanOutcome>({ kind: 'failed', error })),
            defaultIfEmpty(EMPTY_PLAN),
            map((outcome) => {
              const sent = new Float32Array(nu);
              const isSafe = safety.finishTick(tick.index, outcome, sent);
              const flags = base | opts.filter.apply(sent, isSafe) | (safety.faulted ? StepFlags.faulted : 0);
              safety.noteSent(sent);
              plant.send(sent);
              const planMs = outcome.kind === 'planned' ? outcome.planMs : scheduler.now() - started;
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
      session.unsubscribe();
      if (ownSafety) safety.close();
    };
  });
}
