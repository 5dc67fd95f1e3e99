import { pino } from 'pino';
import { of, type VirtualTimeScheduler } from 'rxjs';
import { virtualScheduler } from '../../src/loop/clock.js';
import { controlLoop, type ControlStep, type PlanStage } from '../../src/loop/control-loop.js';
import { ActionFilter } from '../../src/safety/action-filter.js';
import type { SafetyEvent } from '../../src/safety/arming.js';
import { DEFAULT_CLEAR_RULES } from '../../src/safety/safe-action.js';
import { defaultSafetyConfig, type SafetyConfig } from '../../src/safety/safety-config.js';
import { SafetySupervisor } from '../../src/safety/safety-supervisor.js';
import { LinkFakePlant } from './link-fake-plant.js';

export const PERIOD_MS = 20;
/** The plan's action in these tests: any action other than 0.5 was not planned. */
export const PLANNED = 0.5;
export const constantPlan: PlanStage = () => of({ action: Float32Array.of(PLANNED), planMs: 0 });

export interface HarnessOptions {
  steps?: number;
  plan?: PlanStage;
  config?: Partial<SafetyConfig>;
  /** The safe action's (brake) value. */
  safe?: number;
  bounds?: [number, number];
  /** Max change per second. */
  rate?: number;
  /** Emit the first observation at time 0 (default true). */
  emitFirst?: boolean;
}

export interface Harness {
  scheduler: VirtualTimeScheduler;
  plant: LinkFakePlant;
  safety: SafetySupervisor;
  steps: ControlStep[];
  events: SafetyEvent[];
  completed: () => boolean;
  /** Runs `fn` at virtual time `ms`; use times between ticks (not multiples of 20) to keep the order plain. */
  at(ms: number, fn: () => void): void;
  /** Runs the episode to its end. */
  run(): void;
}

/**
 * A control loop in virtual time against LinkFakePlant, with a silent logger and good_ticks 3
 * (the rest of the safety config from the defaults at 20 ms, unless overridden).
 */
export function harness(opts: HarnessOptions = {}): Harness {
  const scheduler = virtualScheduler();
  const plant = new LinkFakePlant(PERIOD_MS / 1000, scheduler);
  const [lo, hi] = opts.bounds ?? [-1, 1];
  const filter = new ActionFilter(
    { low: Float32Array.of(lo), high: Float32Array.of(hi) },
    Float32Array.of(0),
    Float32Array.of(opts.rate ?? Infinity),
    PERIOD_MS / 1000,
  );
  const config: SafetyConfig = { ...defaultSafetyConfig(PERIOD_MS), clear: { ...DEFAULT_CLEAR_RULES, goodTicks: 3 }, ...opts.config };
  const safety = new SafetySupervisor({ plant, config, safeAction: Float32Array.of(opts.safe ?? 0), logger: pino({ level: 'silent' }) });
  const steps: ControlStep[] = [];
  const events: SafetyEvent[] = [];
  let done = false;
  safety.events$.subscribe((e) => events.push(e));
  controlLoop({ plant, stateDim: 2, periodMs: PERIOD_MS, scheduler, steps: opts.steps ?? 20, plan: opts.plan ?? constantPlan, filter, safety }).subscribe({
    next: (s) => steps.push(s),
    complete: () => (done = true),
  });
  if (opts.emitFirst !== false) plant.emit();
  return {
    scheduler,
    plant,
    safety,
    steps,
    events,
    completed: () => done,
    at: (ms, fn) => scheduler.schedule(fn, ms),
    run: () => scheduler.flush(),
  };
}

/** The actions sent, one number per send. */
export const sent = (h: Harness): number[] => h.plant.received.map((r) => r.u);

/** Transitions of the arming state machine, as 'from->to@tick'. */
export const transitions = (h: Harness): string[] =>
  h.events.flatMap((e) => (e.kind === 'transition' ? [`${e.from}->${e.to}@${e.tick}`] : []));
