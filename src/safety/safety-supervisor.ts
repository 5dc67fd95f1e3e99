import type { Logger } from 'pino';
import { Subject, Subscription, type Observable, type SchedulerLike } from 'rxjs';
import type { Config } from '../config/schema.js';
import type { ArmCommand, PlantEvent, PlantPort } from '../io/plant.js';
import { perAction } from '../core/action-vectors.js';
import { createLogger } from '../telemetry/logger.js';
import { ArmingStateMachine, type ArmingState, type SafetyEvent } from './arming.js';
import { clearRuleFor, Faults, SafeActionSource } from './safe-action.js';
import { safetyConfigFrom, type SafetyConfig } from './safety-config.js';
import { Watchdog } from './watchdog.js';

/** For the run summary. `faults` counts each raise of each reason, e.g. { 'sensor_stale:imu': 2 }. */
export interface SafetyCounts {
  faults: Record<string, number>;
  /** Ticks on which the safe action was sent instead of the plan's. */
  safe_ticks: number;
  estops: number;
}

/** How the planning stage of one tick ended. */
export type PlanOutcome =
  | { readonly kind: 'planned'; readonly action: Float32Array; readonly planMs: number }
  | { readonly kind: 'late' }
  | { readonly kind: 'failed'; readonly error: unknown };

export interface SafetySupervisorOptions {
  plant: PlantPort;
  config: SafetyConfig;
  /** [nu] the safe action's values in action order: sent in brake mode, and in hold mode before anything was sent. */
  safeAction: Float32Array;
  logger?: Logger;
}

let sharedLogger: Logger | undefined;
const safetyLogger = (): Logger => (sharedLogger ??= createLogger('mpcd.safety'));

/**
 * The safety layer of the control loop: the arming state machine, the watchdog (stale sensor
 * channels, missed planning deadlines, a lost link), e-stops from the plant or from a local
 * call, and the choice between the plan's action and the safe action on every tick.
 *
 * It lives as long as its plant: it listens to the plant's events from construction on (an
 * e-stop between two episodes is not lost) and keeps its faults and counts across control
 * sessions. The control loop `attach`es it for one session and drives it tick by tick; the
 * ActionFilter runs after it on every action, the safe one included.
 *
 * It tells the robot its arming through `plant.command`: `arm` while the operator wants it
 * armed (also while faulted by a watchdog fault, so that the robot applies the daemon's safe
 * action), `disarm`, or `estop` while an e-stop is latched; again after every link_up.
 *
 * The rule for a robot that reboots (the link reports `robot_restart`): it came up disarmed and
 * in a state the plan knows nothing of, so the daemon never re-arms it by itself. The fault
 * `robot_restart` (manual) holds the safe action and tells the robot `disarm` until the operator
 * arms again (with `mpcd run`, the next episode's arm). A clock step is no fault by itself: the
 * link re-bases within a few readings, and a channel that went quiet meanwhile is `sensor_stale`.
 */
export class SafetySupervisor {
  /** Transitions, raised and cleared faults, as they happen (not replayed: arm-on-start is reported before anyone can listen). */
  readonly events$: Observable<SafetyEvent>;
  private readonly subject = new Subject<SafetyEvent>();
  private readonly machine: ArmingStateMachine;
  private readonly watchdog: Watchdog;
  private readonly safe: SafeActionSource;
  private readonly log: Logger;
  private readonly plantEvents: Subscription | undefined;
  private readonly tally: SafetyCounts = { faults: {}, safe_ticks: 0, estops: 0 };
  private scheduler: SchedulerLike | undefined;
  private tick = -1; // index of the last tick seen
  private linkDown = false;
  private linkDetail = '';
  private commandSent: ArmCommand | undefined;

  constructor(private readonly opts: SafetySupervisorOptions) {
    const { config, plant } = opts;
    this.log = opts.logger ?? safetyLogger();
    this.events$ = this.subject.asObservable();
    this.watchdog = new Watchdog(
      plant.channels.map((c) => c.name),
      config.maxAgeMs,
      config.defaultMaxAgeMs,
      config.deadlineMs,
    );
    this.safe = new SafeActionSource(config.mode, Float32Array.from(opts.safeAction));
    this.machine = new ArmingStateMachine(config.clear.goodTicks, (f) => clearRuleFor(config.clear, f), (e) => this.onSafetyEvent(e));
    if (config.armOnStart) this.machine.arm(-1, 'arm_on_start');
    this.plantEvents = plant.events$?.subscribe((e) => this.onPlantEvent(e));
  }

  /** From the loaded config: `safety:` resolved against the control period and plant kind; `actionNames` in action order. */
  static fromConfig(config: Config, plant: PlantPort, actionNames: readonly string[], logger?: Logger): SafetySupervisor {
    const safety = safetyConfigFrom(config);
    return new SafetySupervisor({
      plant,
      config: safety,
      safeAction: perAction(safety.safeAction, actionNames, 0),
      ...(logger !== undefined ? { logger } : {}),
    });
  }

  get state(): ArmingState {
    return this.machine.state;
  }

  /** Active fault reasons, oldest first. */
  get faults(): string[] {
    return this.machine.faults;
  }

  get faulted(): boolean {
    return this.machine.state === 'faulted';
  }

  /** A snapshot of the counts for the run summary. */
  get counts(): SafetyCounts {
    return { faults: { ...this.tally.faults }, safe_ticks: this.tally.safe_ticks, estops: this.tally.estops };
  }

  /** Length of the action vector the safe action fills. */
  get actionDim(): number {
    return this.safe.actionDim;
  }

  /** The deadline of one tick, ms after its due time. */
  get deadlineMs(): number {
    return this.watchdog.deadlineMs;
  }

  /** The operator arms; this is also the only way to clear an e-stop (and any fault set to `manual`). */
  arm(): void {
    this.machine.arm(this.tick);
    if (this.faulted) this.log.warn({ tick: this.tick, faults: this.faults }, 'safety: arm: still faulted; armed once these clear');
    this.syncCommand();
  }

  disarm(): void {
    this.machine.disarm(this.tick);
    this.syncCommand();
  }

  /** A local e-stop (a signal, the CLI, a test): faulted at once, the robot told at once. */
  estop(source = 'local'): void {
    this.tally.estops++;
    this.machine.raise(Faults.estop, this.tick, source);
    this.syncCommand();
  }

  /** Stops listening to the plant and completes `events$`. */
  close(): void {
    this.plantEvents?.unsubscribe();
    this.subject.complete();
  }

  // ---- The control loop's side: one session at a time. ----

  /** A control session starts on `scheduler`; unsubscribe when it ends. */
  attach(scheduler: SchedulerLike): Subscription {
    this.scheduler = scheduler;
    this.watchdog.start(scheduler.now());
    this.machine.standby(this.tick);
    this.syncCommand();
    return new Subscription(() => {
      if (this.scheduler === scheduler) this.scheduler = undefined;
    });
  }

  /** An accepted (decoded, valid, newer) reading of `channel` arrived now. */
  onReading(channel: string): void {
    if (this.scheduler !== undefined) this.watchdog.onReading(channel, this.scheduler.now());
  }

  /**
   * Start of a tick: checks every channel's age and the link, and lets an armed machine run
   * when the loop has a full state. Returns whether a channel is stale (the stale_state flag).
   */
  beginTick(index: number, hasFullState: boolean): boolean {
    this.tick = index;
    const now = this.scheduler?.now() ?? 0;
    let stale = false;
    for (const channel of this.watchdog.channels) {
      const isStale = this.watchdog.isStale(channel, now);
      stale ||= isStale;
      this.machine.observe(Faults.sensorStale(channel), isStale, index, isStale ? `no reading for ${this.watchdog.age(channel, now).toFixed(1)} ms` : '');
    }
    this.machine.observe(Faults.link_down, this.linkDown, index, this.linkDetail);
    if (hasFullState) this.machine.ready(index);
    return stale;
  }

  /** Scheduler time by which the action of the tick due at `due` must go out. */
  deadline(due: number): number {
    return this.watchdog.deadline(due);
  }

  /**
   * End of a tick: records whether the plan met its deadline, then writes into `out` [nu] the
   * action to send: the plan's when running and on time, else the safe action. Returns true
   * when it is the safe action. The ActionFilter runs after this.
   */
  finishTick(index: number, outcome: PlanOutcome, out: Float32Array): boolean {
    this.tick = index;
    const late = outcome.kind === 'late';
    this.machine.observe(Faults.deadline_missed, late, index, late ? `no action ${this.watchdog.deadlineMs} ms after the tick` : '');
    const failed = outcome.kind === 'failed';
    this.machine.observe(Faults.planner_error, failed, index, failed ? errorText(outcome.error) : '');
    // A fault that cleared on this tick returns the machine to armed; the state is full here.
    this.machine.ready(index);
    if (this.machine.state === 'running' && outcome.kind === 'planned') {
      out.set(outcome.action);
      return false;
    }
    this.safe.fill(out);
    this.tally.safe_ticks++;
    return true;
  }

  /** The action that went out after the filter (hold mode repeats it). */
  noteSent(action: Float32Array): void {
    this.safe.noteSent(action);
  }

  private onPlantEvent(e: PlantEvent): void {
    switch (e.kind) {
      case 'estop':
        this.estop(e.source);
        break;
      case 'link_down':
        this.linkDown = true;
        this.linkDetail = e.detail;
        // Raised at once, not at the next tick, so that the report carries the moment.
        this.machine.observe(Faults.link_down, true, this.tick, e.detail);
        break;
      case 'link_up':
        this.linkDown = false;
        this.linkDetail = '';
        this.commandSent = undefined; // the robot may have restarted: tell it again
        this.syncCommand();
        break;
      case 'robot_restart':
        this.machine.raise(Faults.robot_restart, this.tick, e.detail);
        this.syncCommand();
        break;
      case 'frame_dropped':
      case 'reading_dropped':
      case 'clock_step':
        break; // counted by the transport; a channel that only drops readings goes stale
    }
  }

  /** Tells the robot its arming when it changed (or after a link_up). */
  private syncCommand(): void {
    const armed = this.machine.intent === 'armed' && !this.machine.has(Faults.robot_restart);
    const want: ArmCommand = this.machine.has(Faults.estop) ? 'estop' : armed ? 'arm' : 'disarm';
    if (want === this.commandSent) return;
    this.commandSent = want;
    this.opts.plant.command?.(want);
  }

  private onSafetyEvent(e: SafetyEvent): void {
    if (e.kind === 'fault_raised') {
      this.tally.faults[e.fault] = (this.tally.faults[e.fault] ?? 0) + 1;
      this.log.warn({ tick: e.tick, fault: e.fault, clear: e.clear, detail: e.detail }, `safety: fault ${e.fault}, sending the safe action (${this.safe.mode})`);
    } else if (e.kind === 'fault_cleared') {
      this.log.info({ tick: e.tick, fault: e.fault, by: e.by }, `safety: fault ${e.fault} cleared`);
    } else {
      // Routine steps (arm on start, a new session, running) at debug; what an operator wants to see at info.
      const notable = e.reason === 'arm' || e.reason === 'disarm' || e.from === 'faulted';
      this.log[notable ? 'info' : 'debug']({ tick: e.tick, from: e.from, to: e.to, reason: e.reason }, `safety: ${e.from} -> ${e.to}`);
    }
    this.subject.next(e);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
