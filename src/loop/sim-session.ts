import { setTimeout as sleep } from 'node:timers/promises';
import { filter, firstValueFrom, lastValueFrom, scan, tap, timeout, type Subscription } from 'rxjs';
import type { LoadedConfig } from '../config/load-config.js';
import type { PlantEvent, PlantPort } from '../io/plant.js';
import { Rng } from '../core/rng.js';
import { buildTaskCost, expressionScope } from '../costs/build-task-cost.js';
import { compileCondition } from '../costs/expression-compiler.js';
import type { TaskCost } from '../costs/task-cost.js';
import { TransitionLogWriter, type TransitionLogFailure, type TransitionLogFs } from '../log/transition-log-writer.js';
import { ResidualLearning } from '../learning/residual-learning.js';
import { resolveModelDir } from '../learning/model-store.js';
import { buildModel } from '../models/build-model.js';
import type { DynamicsModel } from '../models/dynamics.js';
import { HybridModel } from '../models/hybrid-model.js';
import { perAction } from '../core/action-vectors.js';
import { actionBounds, buildPlanner } from '../planning/build-planner.js';
import type { Planner } from '../planning/planner.js';
import { ActionFilter } from '../safety/action-filter.js';
import { SafetySupervisor } from '../safety/safety-supervisor.js';
import { LatencyStats } from '../telemetry/latency-stats.js';
import { RefitLatencyComparison } from '../telemetry/refit-latency-comparison.js';
import { createLogger } from '../telemetry/logger.js';
import { MonotonicScheduler, virtualScheduler } from './clock.js';
import { controlLoop, plannerStage, type ControlStep } from './control-loop.js';
import { offsetFreeStage } from './offset-free-stage.js';
import { InputDisturbanceObserver } from '../estimation/input-disturbance-observer.js';
import { ControlStatusReporter } from './control-status-reporter.js';
import { GoalInbox, type TakenGoal } from './goal-inbox.js';
import { GoalSchedule } from './goal-schedule.js';
import { sampleInitialState } from './initial-state.js';
import { LinkStats } from './link-stats.js';
import { TransitionRecorder } from './transition-recorder.js';

export interface EpisodeResult {
  episode: number;
  steps: number;
  cost: number;
  success: boolean;
  /** With scenario.goals: the goals whose success window held, of all the episode's goals. */
  goals_reached?: number;
  goals?: number;
  /** With estimator.input_disturbance: the offset at the episode's end, per action name. */
  input_disturbance?: Record<string, number>;
  /** Rigid-body models: how far the plant's joints went past their ranges, rad or m; 0 = never. */
  joint_limit_excess?: number;
  /** Ticks dropped or missed during the episode. */
  overruns: number;
  /** Transitions logged so far in the run, cumulative. */
  transitions: number;
  /** Residual model version in use at the end of the episode; 0 = analytic model only. */
  model_version: number;
  rss_mb: number;
}

/** The model's names, in order: what a plant must map its channels and actions to. */
export interface PlantNames {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
}

/** The configured plant behind the Plant port, opened for the model's names. */
export interface OpenedPlant {
  readonly plant: PlantPort;
  /** For the start-up log line: kind and where. */
  readonly description: Record<string, unknown>;
}

/** Opens the plant; the composition root (the CLI, src/cli/open-plant.ts) decides which. */
export type PlantOpener = (names: PlantNames) => Promise<OpenedPlant>;

export interface SimSessionOptions {
  /** Opens the plant the session drives: the simulator, or a robot over a wire. */
  openPlant: PlantOpener;
  seed?: number;
  /** Real time on the monotonic clock with a free-running plant; otherwise lock-step virtual time. A robot over a wire always runs in real time. */
  realtime?: boolean;
  /** MCAP file for the transition log; undefined = no log. */
  logPath?: string;
  /** For tests: the file-system calls the transition log writes through (default node:fs), e.g. one that fails with ENOSPC. */
  logFs?: TransitionLogFs;
  /** The model store's folder; default the config's learning.model_dir. */
  modelDir?: string;
}

/** After arming a robot over a wire: how long its readings from before its reset may still be in flight. */
const WIRE_SETTLE_PERIODS = 5;
const WIRE_SETTLE_MIN_MS = 100;
/** How long an episode waits for every channel to report after arming before it starts regardless (it then starts stale, and safe). */
const WIRE_FIRST_READING_MS = 10_000;
/**
 * Real-time sim: how long after the plant's sample each control tick fires, ms. Timers fire up to
 * about a millisecond late, so 2 ms keeps the order; it leaves the planner period - 2 ms to land
 * its action in the period it was planned for.
 */
const SAMPLE_TO_TICK_MS = 2;

/**
 * A control session: the configured planner, cost and safety filter driving the plant through
 * the control pipeline, one episode at a time. Everything is allocated once here and reused by
 * every episode, so memory holds still over long runs.
 *
 * The plant is the in-process MuJoCo plant (reset by the session at each episode, lock-step
 * virtual time or real time), or a robot over MQTT or serial, in real time. A robot over a wire
 * cannot be reset from here: an episode there is disarm -> arm -> run -> disarm, and the robot
 * (the virtual robot does) starts its episode on the arm. The session waits a few periods after
 * arming so that readings from before the robot's reset do not start the episode.
 */
export class SimSession {
  readonly latency = new LatencyStats();
  /** Planning latency split by whether a refit was running in the worker at the time. */
  readonly refitLatency = new RefitLatencyComparison();
  private transitions = 0;
  /** The plant's kind and where it is, for the start-up log line. */
  plantInfo: Record<string, unknown> = {};
  private linkEvents: Subscription | undefined;
  /** Goals from the robot's software, where the plant's link carries them. */
  private goalInbox: GoalInbox | undefined;
  /** What the daemon is doing, to the robot's software, where the plant carries it. */
  private statusReporter: ControlStatusReporter | undefined;
  private wireT0: number | undefined; // stamp (daemon clock) of the run's first reading (wire plants), s
  private readonly success: { test(s: ArrayLike<number>, a: ArrayLike<number>): boolean };
  private readonly initRng: Rng;
  private readonly periodMs: number;
  private readonly steps: number;
  private readonly goals: GoalSchedule;
  private readonly goalRng: Rng;
  /** [nq, 2] the joints' ranges, for the limit check (rigid-body models with limited joints). */
  private readonly jointRange: readonly number[] | undefined;
  private readonly disturbance: InputDisturbanceObserver | undefined;

  private constructor(
    readonly loaded: LoadedConfig,
    readonly plant: PlantPort,
    /** The plant is in-process and reset by the session at each episode (the simulator). */
    private readonly inProcess: boolean,
    readonly planner: Planner,
    readonly cost: TaskCost,
    private readonly filter: ActionFilter,
    private readonly model: DynamicsModel,
    private readonly log: TransitionLogWriter | undefined,
    private readonly realtime: boolean,
    rng: Rng,
    readonly safety: SafetySupervisor,
    readonly learning: ResidualLearning | undefined,
    /** What a wire plant's link did; undefined for the in-process sim. */
    readonly link: LinkStats | undefined,
  ) {
    const c = loaded.config;
    this.initRng = rng;
    this.periodMs = c.control.period * 1000;
    this.steps = Math.round(c.scenario.episode_seconds / c.control.period);
    this.goals = new GoalSchedule(c, cost.live, this.steps);
    this.goalRng = rng.fork();
    this.success = compileCondition(c.task.success.expr, expressionScope(c, model, cost.live), 'task.success.expr');
    const d = c.estimator.input_disturbance;
    this.disturbance = d === undefined ? undefined : new InputDisturbanceObserver(model, c.control.period, d.gain, Float64Array.from(perAction(d.limit, model.actionNames, 0)));
    this.jointRange = c.model.kind === 'rigid_body' && c.model.tree.jointRange.some((r) => Number.isFinite(r)) ? c.model.tree.jointRange : undefined;
  }

  static async create(loaded: LoadedConfig, opts: SimSessionOptions): Promise<SimSession> {
    const c = loaded.config;
    const rng = new Rng(opts.seed ?? c.seed);
    const logger = createLogger();
    const model = buildModel(c, c.planner.samples);
    // A wire plant is always a robot on a real clock; the in-process sim only with --realtime.
    const onRealClock = opts.realtime === true || c.plant.kind !== 'sim';
    const learning = model instanceof HybridModel ? await ResidualLearning.start(c, model, resolveModelDir(c, opts.modelDir), logger, onRealClock) : undefined;
    const cost = buildTaskCost(c, model);
    const planner = buildPlanner(c, model, cost, rng.fork());
    const { plant, description } = await opts.openPlant({ stateNames: model.stateNames, actionNames: model.actionNames }).catch(async (err: unknown) => {
      await learning?.close(); // its worker thread would keep the process alive
      throw err;
    });
    // A plant the session resets is in-process (the simulator); one that is not is a robot over a wire.
    const inProcess = plant.reset !== undefined;
    const realtime = !inProcess || opts.realtime === true;
    // A wire plant judges its readings' stamps itself (src/io/stamp-policy.ts); here they are counted.
    const link = inProcess ? undefined : new LinkStats(plant);
    const filter = new ActionFilter(
      actionBounds(c, model.actionNames),
      perAction(c.safety.safe_action, model.actionNames, 0),
      perAction(c.safety.rate_limit, model.actionNames, Infinity),
      c.control.period,
    );
    const log =
      opts.logPath === undefined
        ? undefined
        : TransitionLogWriter.open(opts.logPath, {
            state_names: [...model.stateNames],
            action_names: [...model.actionNames],
            control_period: c.control.period,
            config: loaded.text,
          }, opts.logFs !== undefined ? { fs: opts.logFs } : {});
    const safety = SafetySupervisor.fromConfig(c, plant, model.actionNames, logger);
    warmUp(planner, sampleInitialState(c.scenario.initial_state, model.stateNames, rng.fork()));
    const session = new SimSession(loaded, plant, inProcess, planner, cost, filter, model, log, realtime, rng.fork(), safety, learning, link);
    session.plantInfo = description;
    session.linkEvents = plant.events$?.subscribe((e) => session.onLinkEvent(e));
    if (plant.goals$ !== undefined) session.goalInbox = new GoalInbox(plant, cost.live, (g) => session.onGoalTaken(g), logger);
    if (plant.reportStatus !== undefined && c.status.rate > 0) session.statusReporter = new ControlStatusReporter(c, model, planner, cost.live, safety, plant);
    return session;
  }

  /** Clock steps and robot restarts go into the transition log, so that a replay knows of them. */
  private onLinkEvent(e: PlantEvent): void {
    if (e.kind !== 'clock_step' && e.kind !== 'robot_restart') return;
    const { kind, ...detail } = e;
    this.log?.appendEvent({ t: this.wireLogTime(), kind, detail });
  }

  /** Now on a wire plant's log time base: transitions are timed from the run's first reading, on the daemon clock the link maps stamps to (0 before it). */
  private wireLogTime(): number {
    const now = performance.now() / 1000;
    return now - (this.wireT0 ?? now);
  }

  /** A goal from the wire was taken (between ticks): into the log; a replan drops the warm start. */
  private onGoalTaken(g: TakenGoal): void {
    this.log?.appendEvent({ t: this.wireLogTime(), kind: 'goal', detail: { sender: g.sender, seq: g.seq, params: g.params, replan: g.replan } });
    if (g.replan) this.planner.reset();
  }

  /** Goals from the wire: taken and rejected by reason; undefined where the link carries none. */
  get goalCounts(): GoalInbox['counts'] | undefined {
    return this.goalInbox?.counts;
  }

  get logPath(): string | undefined {
    return this.log?.path;
  }

  /** Why the transition log stopped writing (disk full, read-only, I/O error); undefined while it writes, or with no log. Control goes on either way. */
  get logFailure(): TransitionLogFailure | undefined {
    return this.log?.failure;
  }

  /** Runs one episode from a state drawn from the scenario's initial-state distribution. */
  async runEpisode(episode: number, onStep?: (step: ControlStep) => void): Promise<EpisodeResult> {
    const c = this.loaded.config;
    const x0 = sampleInitialState(c.scenario.initial_state, this.model.stateNames, this.initRng);
    if (!this.inProcess) await this.armWireRobot();
    const goals = this.goals.start(this.goalRng);
    const t0 = this.inProcess ? episode * c.scenario.episode_seconds : undefined;
    const logGoal = (g: number, atStep: number): void => {
      if (c.scenario.goals === undefined) return;
      this.log?.appendEvent({ t: t0 === undefined ? this.wireLogTime() : t0 + atStep * c.control.period, kind: 'goal', detail: { episode, goal: g, params: goals[g] } });
    };
    logGoal(0, 0);
    const goalHeld = new Uint8Array(this.goals.count).fill(1);
    const goalChecked = new Uint8Array(this.goals.count);
    let limitExcess = 0;
    this.disturbance?.forgetStep();
    this.planner.reset();
    this.filter.reset();
    const recorder = new TransitionRecorder(
      this.cost,
      (tr) => {
        this.log?.append(tr);
        this.learning?.onTransition(tr);
      },
      episode,
      // Sim: each episode's plant time starts at 0. Wire: the robot's clock runs on; t counts from the run's first reading.
      this.inProcess ? episode * c.scenario.episode_seconds : -(this.wireT0 ?? 0),
      () => this.learning?.version ?? 0,
    );
    let overruns = 0;
    let lastAction: Float32Array = new Float32Array(this.planner.actionDim);
    const scheduler = this.realtime ? new MonotonicScheduler() : virtualScheduler();
    // The free-running sim samples at its period boundaries (its clock restarts at the reset
    // below) and applies the ctrl it holds at the next one. Ticking SAMPLE_TO_TICK_MS after each
    // sample plans from that sample and lands the action within the same period, as lock-step
    // does. Ticks due at the very moment the plant steps would fire before or after it by chance:
    // a tick first plans from the previous sample, and when the order flips an action is skipped
    // and logged transitions pair the wrong states and actions.
    const clockOrigin = scheduler.now();
    const firstTickAt = this.realtime && this.inProcess ? clockOrigin + SAMPLE_TO_TICK_MS : undefined;
    const steps$ = controlLoop({
      plant: this.plant,
      stateDim: this.model.stateNames.length,
      periodMs: this.periodMs,
      scheduler,
      steps: this.steps,
      plan: this.disturbance === undefined ? plannerStage(this.planner, this.learning?.planningHook) : offsetFreeStage(plannerStage(this.planner, this.learning?.planningHook), this.disturbance),
      filter: this.filter,
      safety: this.safety,
      ...(firstTickAt !== undefined ? { firstTickAt } : {}),
      ...(this.link !== undefined ? { readings: this.link.readings } : {}),
    }).pipe(
      tap((step) => {
        recorder.onStep(step);
        if (this.disturbance !== undefined) {
          if (step.action !== undefined) this.disturbance.remember(step.state, step.action);
          else this.disturbance.forgetStep();
        }
        if (step.action !== undefined) {
          this.latency.add(step.planMs);
          this.refitLatency.add(step.planMs, this.learning?.refitting === true);
          lastAction = step.action;
        }
        overruns += step.dropped;
        if (this.goals.inSuccessWindow(step.index)) {
          const g = this.goals.goalOf(step.index);
          goalChecked[g] = 1;
          if (!this.success.test(this.cost.withDerived(step.state, 1), lastAction)) goalHeld[g] = 0;
        }
        if (this.jointRange !== undefined) limitExcess = Math.max(limitExcess, rangeExcess(step.state, this.jointRange));
        this.statusReporter?.onStep(step, episode, performance.now() / 1000);
        onStep?.(step);
        // After the step's success check: the next goal acts from the next tick on.
        const next = this.goals.afterStep(step.index);
        if (next >= 0) logGoal(next, step.index + 1);
      }),
    );
    const done = lastValueFrom(steps$, { defaultValue: undefined });
    this.plant.reset?.(x0, this.realtime ? clockOrigin : undefined);
    // Virtual time runs the whole episode inside flush(); real time runs on timers.
    if (!(scheduler instanceof MonotonicScheduler)) scheduler.flush();
    try {
      await done;
    } finally {
      // The episode's end for a robot over a wire; the next arm starts the next one.
      if (!this.inProcess) this.safety.disarm();
    }
    this.transitions += recorder.count;
    // Dropped ticks are not failures by themselves; the condition must hold at every tick served.
    let reached = 0;
    for (let g = 0; g < this.goals.count; g++) reached += goalHeld[g]! & goalChecked[g]!;
    return {
      episode,
      steps: recorder.count,
      cost: recorder.totalCost,
      success: reached === this.goals.count,
      ...(c.scenario.goals !== undefined ? { goals_reached: reached, goals: this.goals.count } : {}),
      ...(this.jointRange !== undefined ? { joint_limit_excess: limitExcess } : {}),
      ...(this.disturbance !== undefined ? { input_disturbance: Object.fromEntries(this.model.actionNames.map((n, j) => [n, this.disturbance!.offset[j]!])) } : {}),
      overruns,
      transitions: this.transitions,
      model_version: this.learning?.version ?? 0,
      rss_mb: process.memoryUsage.rss() / 2 ** 20,
    };
  }

  /**
   * Arms the robot for an episode, waits out readings from before its reset, then until every
   * channel has reported (or WIRE_FIRST_READING_MS, after which the loop starts stale and safe).
   */
  private async armWireRobot(): Promise<void> {
    const settleMs = Math.max(WIRE_SETTLE_MIN_MS, WIRE_SETTLE_PERIODS * this.periodMs);
    this.safety.arm();
    await sleep(settleMs);
    const names = this.plant.channels.map((ch) => ch.name);
    const firstStamp = await firstValueFrom(
      this.plant.observations$.pipe(
        scan((acc, o) => ({ seen: acc.seen.add(o.channel), stamp: Math.min(acc.stamp, o.stamp) }), { seen: new Set<string>(), stamp: Infinity }),
        filter((acc) => names.every((n) => acc.seen.has(n))),
        timeout({ first: WIRE_FIRST_READING_MS }),
      ),
      { defaultValue: undefined },
    ).catch(() => undefined);
    if (firstStamp === undefined) {
      createLogger().warn({ channels: names, waited_ms: WIRE_FIRST_READING_MS }, 'no reading from every channel after arming; the episode starts and stays safe until they arrive');
    } else {
      this.wireT0 ??= firstStamp.stamp;
    }
  }

  async close(): Promise<void> {
    this.linkEvents?.unsubscribe();
    this.goalInbox?.close();
    this.link?.close();
    this.safety.close();
    await this.learning?.close();
    await this.plant.close();
    await this.log?.close();
  }
}


/** How far q (the first nq entries of `state`) lies outside `range` ([nq, 2]), at the worst joint. */
function rangeExcess(state: ArrayLike<number>, range: readonly number[]): number {
  let worst = 0;
  for (let j = 0; 2 * j < range.length; j++) {
    const q = state[j]!;
    worst = Math.max(worst, range[2 * j]! - q, q - range[2 * j + 1]!);
  }
  return worst;
}

/**
 * Plans a few ticks from a typical start before the first episode, so that the JIT has compiled
 * the hot loops before the first real deadline (the first ticks otherwise overrun in real time).
 */
function warmUp(planner: Planner, x0: Float64Array, ticks = 20): void {
  const state = Float32Array.from(x0);
  for (let i = 0; i < ticks; i++) {
    planner.advance(1);
    planner.optimize(state);
  }
  planner.reset();
}
