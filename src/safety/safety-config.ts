import type { Config } from '../config/schema.js';
import { DEFAULT_CLEAR_RULES, type FaultClearRules, type SafeMode } from './safe-action.js';

/**
 * The safety layer's settings with every default resolved, in the scheduler's milliseconds.
 * The safe action's values (brake) are per action name here; the supervisor puts them in
 * action order.
 */
export interface SafetyConfig {
  readonly mode: SafeMode;
  /** safety.safe_action: per action name; missing names are 0. */
  readonly safeAction: Readonly<Record<string, number>>;
  /** Per channel; channels not named get `defaultMaxAgeMs`. */
  readonly maxAgeMs: Readonly<Record<string, number>>;
  readonly defaultMaxAgeMs: number;
  readonly deadlineMs: number;
  readonly clear: FaultClearRules;
  readonly armOnStart: boolean;
}

/** Max age of a channel, in control periods, when the config does not say. */
export const DEFAULT_MAX_AGE_PERIODS = 3;

/** The defaults for a loop at `periodMs`: brake, 3 periods of max age, a 1-period deadline, armed on start (the simulator's choice). */
export function defaultSafetyConfig(periodMs: number): SafetyConfig {
  return {
    mode: 'brake',
    safeAction: {},
    maxAgeMs: {},
    defaultMaxAgeMs: DEFAULT_MAX_AGE_PERIODS * periodMs,
    deadlineMs: periodMs,
    clear: DEFAULT_CLEAR_RULES,
    armOnStart: true,
  };
}

/** The config's `safety:` section, resolved against its control period and plant kind. */
export function safetyConfigFrom(config: Config): SafetyConfig {
  const s = config.safety;
  const maxAgeMs: Record<string, number> = {};
  for (const [channel, seconds] of Object.entries(s.max_age)) maxAgeMs[channel] = seconds * 1000;
  const fc = s.fault_clear;
  const plantKind: string = config.plant.kind;
  return {
    mode: s.safe_mode,
    safeAction: s.safe_action,
    maxAgeMs,
    defaultMaxAgeMs: (s.max_age_default ?? DEFAULT_MAX_AGE_PERIODS * config.control.period) * 1000,
    deadlineMs: (s.deadline ?? config.control.period) * 1000,
    clear: {
      goodTicks: fc.good_ticks,
      sensor_stale: fc.sensor_stale,
      deadline_missed: fc.deadline_missed,
      link_down: fc.link_down,
      planner_error: fc.planner_error,
    },
    // A simulator may start moving on its own; a real robot waits for an operator's arm.
    armOnStart: s.arm_on_start ?? plantKind === 'sim',
  };
}
