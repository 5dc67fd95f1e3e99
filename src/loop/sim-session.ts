import { resolve } from 'node:path';
import { lastValueFrom, tap } from 'rxjs';
import { MujocoPlant } from '../../sim/mujoco-plant.js';
import type { LoadedConfig } from '../config/load-config.js';
import { MpcdError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { buildTaskCost, expressionScope } from '../costs/build-task-cost.js';
import { compileCondition } from '../costs/expression-compiler.js';
import type { TaskCost } from '../costs/task-cost.js';
import { TransitionLogWriter } from '../log/transition-log-writer.js';
import { ResidualLearning } from '../learning/residual-learning.js';
import { resolveModelDir } from '../learning/model-store.js';
import { buildModel } from '../models/build-model.js';
import type { DynamicsModel } from '../models/dynamics.js';
import { HybridModel } from '../models/hybrid-model.js';
import { actionBounds, buildPlanner, perAction } from '../planning/build-planner.js';
import type { Planner } from '../planning/planner.js';
import { ActionFilter } from '../safety/action-filter.js';
import { SafetySupervisor } from '../safety/safety-supervisor.js';
import { LatencyStats } from '../telemetry/latency-stats.js';
import { createLogger } from '../telemetry/logger.js';
import { MonotonicScheduler, virtualScheduler } from './clock.js';
import { controlLoop, plannerStage, type ControlStep } from './control-loop.js';
import { sampleInitialState } from './initial-state.js';
import { TransitionRecorder } from './transition-recorder.js';

export interface EpisodeResult {
  episode: number;
  steps: number;
  cost: number;
  success: boolean;
  /** Ticks dropped or missed during the episode. */
  overruns: number;
  /** Transitions logged so far in the run, cumulative. */
  transitions: number;
  /** Residual model version in use at the end of the episode; 0 = analytic model only. */
  model_version: number;
  rss_mb: number;
}

export interface SimSessionOptions {
  seed?: number;
  /** Real time on the monotonic clock with a free-running plant; otherwise lock-step virtual time. */
  realtime?: boolean;
  /** MCAP file for the transition log; undefined = no log. */
  logPath?: string;
  /** The model store's folder; default the config's learning.model_dir. */
  modelDir?: string;
}

/**
 * A simulation session: the configured planner, cost and safety filter driving the MuJoCo plant
 * through the control pipeline, one episode at a time. Everything is allocated once here and
 * reused by every episode, so memory holds still over long runs.
 */
export class SimSession {
  readonly latency = new LatencyStats();
  /** Planning latency split by whether a refit was running in the worker at the time. */
  readonly latencyDuringRefit = new LatencyStats();
  readonly latencyNoRefit = new LatencyStats();
  private transitions = 0;
  private readonly success: { test(s: ArrayLike<number>, a: ArrayLike<number>): boolean };
  private readonly initRng: Rng;
  private readonly periodMs: number;
  private readonly steps: number;
  private readonly holdFrom: number; // first step index inside the success window

  private constructor(
    readonly loaded: LoadedConfig,
    readonly plant: MujocoPlant,
    readonly planner: Planner,
    readonly cost: TaskCost,
    private readonly filter: ActionFilter,
    private readonly model: DynamicsModel,
    private readonly log: TransitionLogWriter | undefined,
    private readonly realtime: boolean,
    rng: Rng,
    readonly safety: SafetySupervisor,
    readonly learning: ResidualLearning | undefined,
  ) {
    const c = loaded.config;
    this.initRng = rng;
    this.periodMs = c.control.period * 1000;
    this.steps = Math.round(c.scenario.episode_seconds / c.control.period);
    this.holdFrom = this.steps - Math.round(c.task.success.hold_seconds / c.control.period);
    this.success = compileCondition(c.task.success.expr, expressionScope(c, model), 'task.success.expr');
  }

  static async create(loaded: LoadedConfig, opts: SimSessionOptions = {}): Promise<SimSession> {
    const c = loaded.config;
    if (c.plant.kind !== 'sim') throw new MpcdError('PLANT_KIND', `${loaded.path}: plant.kind ${String(c.plant.kind)} cannot run episodes; use plant.kind: sim`);
    const rng = new Rng(opts.seed ?? c.seed);
    const logger = createLogger();
    const model = buildModel(c, c.planner.samples);
    const learning = model instanceof HybridModel ? await ResidualLearning.start(c, model, resolveModelDir(c, opts.modelDir), logger) : undefined;
    const cost = buildTaskCost(c, model);
    const planner = buildPlanner(c, model, cost, rng.fork());
    const realtime = opts.realtime === true;
    const plant = await MujocoPlant.create({
      mjcfPath: resolve(loaded.dir, c.plant.mjcf),
      state: c.plant.state,
      actions: c.plant.actions,
      controlPeriod: c.control.period,
      mode: realtime ? 'free_running' : 'lockstep',
      scheduler: new MonotonicScheduler(),
    });
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
          });
    const safety = SafetySupervisor.fromConfig(c, plant, model.actionNames, logger);
    warmUp(planner, sampleInitialState(c.scenario.initial_state, model.stateNames, rng.fork()));
    return new SimSession(loaded, plant, planner, cost, filter, model, log, realtime, rng.fork(), safety, learning);
  }

  get logPath(): string | undefined {
    return this.log?.path;
  }

  /** Runs one episode from a state drawn from the scenario's initial-state distribution. */
  async runEpisode(episode: number, onStep?: (step: ControlStep) => void): Promise<EpisodeResult> {
    const c = this.loaded.config;
    const x0 = sampleInitialState(c.scenario.initial_state, this.model.stateNames, this.initRng);
    this.planner.reset();
    this.filter.reset();
    const recorder = new TransitionRecorder(
      this.cost,
      (tr) => {
        this.log?.append(tr);
        this.learning?.onTransition(tr);
      },
      episode,
      episode * c.scenario.episode_seconds,
      () => this.learning?.version ?? 0,
    );
    let held = true;
    let checked = 0; // served ticks inside the success window
    let overruns = 0;
    let lastAction: Float32Array = new Float32Array(this.planner.actionDim);
    const scheduler = this.realtime ? new MonotonicScheduler() : virtualScheduler();
    const steps$ = controlLoop({
      plant: this.plant,
      stateDim: this.model.stateNames.length,
      periodMs: this.periodMs,
      scheduler,
      steps: this.steps,
      plan: plannerStage(this.planner),
      filter: this.filter,
      safety: this.safety,
    }).pipe(
      tap((step) => {
        recorder.onStep(step);
        if (step.action !== undefined) {
          this.latency.add(step.planMs);
          (this.learning?.refitting === true ? this.latencyDuringRefit : this.latencyNoRefit).add(step.planMs);
          lastAction = step.action;
        }
        overruns += step.dropped;
        if (step.index >= this.holdFrom) {
          checked++;
          if (!this.success.test(step.state, lastAction)) held = false;
        }
        onStep?.(step);
      }),
    );
    const done = lastValueFrom(steps$, { defaultValue: undefined });
    this.plant.reset(x0);
    // Virtual time runs the whole episode inside flush(); real time runs on timers.
    if (!(scheduler instanceof MonotonicScheduler)) scheduler.flush();
    await done;
    this.transitions += recorder.count;
    return {
      episode,
      steps: recorder.count,
      cost: recorder.totalCost,
      // Dropped ticks are not failures by themselves; the condition must hold at every tick served.
      success: held && checked > 0,
      overruns,
      transitions: this.transitions,
      model_version: this.learning?.version ?? 0,
      rss_mb: process.memoryUsage.rss() / 2 ** 20,
    };
  }

  async close(): Promise<void> {
    this.safety.close();
    await this.learning?.close();
    await this.plant.close();
    await this.log?.close();
  }
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
