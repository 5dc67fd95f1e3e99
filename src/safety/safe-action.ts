/**
 * What is sent when the plan may not be, and the rules by which a fault clears.
 *
 * The safe action still goes through the ActionFilter afterwards (NaN guard, rate limit, bounds),
 * like every action: a `brake` value outside the bounds is clamped, and a jump to zero is rate
 * limited. Opposing the current velocity would need to know which state drives which actuator,
 * which the safety layer does not, so `brake` is the configured per-action values.
 */
export type SafeMode = 'brake' | 'zero' | 'hold';

export type ClearRule = 'auto' | 'manual';

/** Per fault kind, how it clears; `goodTicks` is the streak an auto fault needs. An e-stop is always manual. */
export interface FaultClearRules {
  readonly goodTicks: number;
  readonly sensor_stale: ClearRule;
  readonly deadline_missed: ClearRule;
  readonly link_down: ClearRule;
  readonly planner_error: ClearRule;
}

export const DEFAULT_CLEAR_RULES: FaultClearRules = {
  goodTicks: 10,
  sensor_stale: 'auto',
  deadline_missed: 'auto',
  link_down: 'auto',
  planner_error: 'auto',
};

/** The fault reasons the safety layer raises; a stale sensor is `sensor_stale:<channel>`. */
export const Faults = {
  estop: 'estop',
  deadline_missed: 'deadline_missed',
  link_down: 'link_down',
  planner_error: 'planner_error',
  /** The robot rebooted mid-run (a new session): it came up disarmed; only an operator's arm clears this. */
  robot_restart: 'robot_restart',
  sensorStale: (channel: string): string => `sensor_stale:${channel}`,
} as const;

/** The clear rule of a fault reason; an e-stop, a robot restart and anything unknown are manual. */
export function clearRuleFor(rules: FaultClearRules, fault: string): ClearRule {
  if (fault.startsWith('sensor_stale:')) return rules.sensor_stale;
  switch (fault) {
    case Faults.deadline_missed:
      return rules.deadline_missed;
    case Faults.link_down:
      return rules.link_down;
    case Faults.planner_error:
      return rules.planner_error;
    default:
      return 'manual';
  }
}

/**
 * The safe action of one mode. `hold` repeats the last action sent (after the filter); before
 * anything was sent it has nothing to hold and sends the `brake` values.
 */
export class SafeActionSource {
  private readonly last: Float32Array; // [nu] last action sent
  private hasLast = false;

  constructor(
    readonly mode: SafeMode,
    private readonly brake: Float32Array, // [nu]
  ) {
    this.last = new Float32Array(brake.length);
  }

  get actionDim(): number {
    return this.brake.length;
  }

  /** Writes the safe action into `out` [nu]. */
  fill(out: Float32Array): void {
    if (this.mode === 'zero') out.fill(0);
    else if (this.mode === 'hold' && this.hasLast) out.set(this.last);
    else out.set(this.brake);
  }

  /** The action that actually went out, whichever it was. */
  noteSent(action: Float32Array): void {
    this.last.set(action);
    this.hasLast = true;
  }
}
