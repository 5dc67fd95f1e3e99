import type { ClearRule } from './safe-action.js';

/**
 * The arming state machine.
 *
 *   disarmed --arm--> armed --ready (a full state)--> running
 *   armed | running --disarm--> disarmed         running --standby (a new session)--> armed
 *   any --fault--> faulted --all_clear--> armed (operator wants it armed) | disarmed
 *
 * Only `running` sends the plan's action; every other state sends the safe action. Faults are a
 * set, each with its reason (`sensor_stale:<channel>`, `deadline_missed`, `link_down`, `estop`,
 * `planner_error`, `robot_restart`) and its clear rule; the machine is `faulted` while the set is not empty.
 * The operator's intent (arm/disarm) is kept apart from the faults, so that clearing the last
 * fault returns to what the operator asked for.
 */
export type ArmingState = 'disarmed' | 'armed' | 'running' | 'faulted';

export type ArmingInput = 'arm' | 'disarm' | 'ready' | 'standby' | 'fault' | 'all_clear';

export type Intent = 'armed' | 'disarmed';

/** The transition table; undefined where the input does not apply in that state. */
export function nextArmingState(state: ArmingState, input: ArmingInput, intent: Intent): ArmingState | undefined {
  switch (state) {
    case 'disarmed':
      return input === 'arm' ? 'armed' : input === 'fault' ? 'faulted' : undefined;
    case 'armed':
      return input === 'disarm' ? 'disarmed' : input === 'ready' ? 'running' : input === 'fault' ? 'faulted' : undefined;
    case 'running':
      return input === 'disarm' ? 'disarmed' : input === 'standby' ? 'armed' : input === 'fault' ? 'faulted' : undefined;
    case 'faulted':
      return input === 'all_clear' ? (intent === 'armed' ? 'armed' : 'disarmed') : undefined;
  }
}

/** What the safety layer reports; `tick` is the index of the tick it happened at (the last one seen for events between ticks, -1 before the first). */
export type SafetyEvent =
  | { readonly kind: 'transition'; readonly tick: number; readonly from: ArmingState; readonly to: ArmingState; readonly reason: string }
  | { readonly kind: 'fault_raised'; readonly tick: number; readonly fault: string; readonly clear: ClearRule; readonly detail: string }
  | { readonly kind: 'fault_cleared'; readonly tick: number; readonly fault: string; readonly by: 'good_ticks' | 'arm' };

interface ActiveFault {
  readonly clear: ClearRule;
  /** Its cause is present right now (a stale channel, a link down); an e-stop is a latch and never is. */
  causePresent: boolean;
  /** Consecutive observations without the cause. */
  goodTicks: number;
}

/**
 * The state machine with its fault set. `observe` is the watchdog's per-tick report for one
 * cause; `raise` is for one-off faults (an e-stop). Every change is reported through `report`.
 */
export class ArmingStateMachine {
  private current: ArmingState = 'disarmed';
  private intentNow: Intent = 'disarmed';
  private readonly active = new Map<string, ActiveFault>();

  constructor(
    private readonly goodTicksToClear: number,
    private readonly clearRuleFor: (fault: string) => ClearRule,
    private readonly report: (event: SafetyEvent) => void,
  ) {}

  get state(): ArmingState {
    return this.current;
  }

  get intent(): Intent {
    return this.intentNow;
  }

  /** Active faults, in the order they were raised. */
  get faults(): string[] {
    return [...this.active.keys()];
  }

  has(fault: string): boolean {
    return this.active.has(fault);
  }

  /** The operator arms: clears manual faults whose cause is gone; armed once no fault is left. */
  arm(tick: number, reason = 'arm'): void {
    this.intentNow = 'armed';
    for (const [fault, f] of this.active) {
      if (f.clear === 'manual' && !f.causePresent) {
        this.active.delete(fault);
        this.report({ kind: 'fault_cleared', tick, fault, by: 'arm' });
      }
    }
    if (this.current === 'faulted' && this.active.size === 0) this.apply('all_clear', tick, 'faults cleared by arm');
    else this.apply('arm', tick, reason);
  }

  /** The operator disarms; while faulted, the machine goes to disarmed once the faults clear. */
  disarm(tick: number, reason = 'disarm'): void {
    this.intentNow = 'disarmed';
    this.apply('disarm', tick, reason);
  }

  /** A tick with a full state: armed becomes running. */
  ready(tick: number): void {
    this.apply('ready', tick, 'full state');
  }

  /** A new control session starts with no state yet: running falls back to armed. */
  standby(tick: number): void {
    this.apply('standby', tick, 'new session');
  }

  /** A one-off fault (an e-stop): raised, and its cause is not tracked afterwards. */
  raise(fault: string, tick: number, detail: string): void {
    const f = this.active.get(fault);
    if (f !== undefined) {
      f.goodTicks = 0;
      return;
    }
    this.add(fault, false, tick, detail);
  }

  /**
   * The watchdog's report for one cause at one tick: raises the fault when the cause is present,
   * counts good ticks when it is gone, and clears an auto fault after `goodTicksToClear` of them.
   */
  observe(fault: string, causePresent: boolean, tick: number, detail = ''): void {
    const f = this.active.get(fault);
    if (f === undefined) {
      if (causePresent) this.add(fault, true, tick, detail);
      return;
    }
    f.causePresent = causePresent;
    if (causePresent) {
      f.goodTicks = 0;
      return;
    }
    f.goodTicks++;
    if (f.clear === 'auto' && f.goodTicks >= this.goodTicksToClear) {
      this.active.delete(fault);
      this.report({ kind: 'fault_cleared', tick, fault, by: 'good_ticks' });
      if (this.active.size === 0) this.apply('all_clear', tick, `cleared ${fault}`);
    }
  }

  private add(fault: string, causePresent: boolean, tick: number, detail: string): void {
    const clear = this.clearRuleFor(fault);
    this.active.set(fault, { clear, causePresent, goodTicks: 0 });
    this.report({ kind: 'fault_raised', tick, fault, clear, detail });
    this.apply('fault', tick, fault);
  }

  private apply(input: ArmingInput, tick: number, reason: string): void {
    const to = nextArmingState(this.current, input, this.intentNow);
    if (to === undefined || to === this.current) return;
    const from = this.current;
    this.current = to;
    this.report({ kind: 'transition', tick, from, to, reason });
  }
}
