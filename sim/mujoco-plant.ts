import type { MjData, MjModel } from 'mujoco-js';
import { asyncScheduler, Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { MpcdError } from '../src/core/errors.js';
import type { Observation, PlantPort } from '../src/io/plant.js';
import { getMujoco, loadMjcf, type Mujoco } from '../src/models/rigid-body/mujoco-runtime.js';
import {
  readState,
  resolveStateMap,
  writeActions,
  writeState,
  type ActionTarget,
  type MjDataViews,
  type StateMap,
  type StateSource,
} from './state-map.js';

export type MujocoPlantMode = 'lockstep' | 'free_running';

export interface MujocoPlantOptions {
  mjcfPath: string;
  /** In state-vector order. */
  state: readonly StateSource[];
  /** In action-vector order. */
  actions: readonly ActionTarget[];
  /** Seconds; an integer multiple of the MJCF's timestep. */
  controlPeriod: number;
  /**
   * lockstep: `send` steps one control period and emits synchronously (for drivers in virtual time).
   * free_running: the plant steps itself once per control period on `scheduler`, holding the last ctrl.
   * Its clock starts at creation and restarts on `reset`; period k ends at start + k * controlPeriod
   * (absolute, so timer lateness does not drift), and its physics is computed then, with the ctrl
   * held at that moment: an action sent during a period applies to the whole of it.
   */
  mode: MujocoPlantMode;
  /** Clock for free_running mode (real or virtual time; delays in ms); default asyncScheduler. */
  scheduler?: SchedulerLike;
}

/** The only channel: the whole state vector at once. */
export const STATE_CHANNEL = 'state';

/** In free_running mode, how many late periods one timer callback may catch up before it gives them up. */
const MAX_CATCH_UP = 10;

/**
 * A MuJoCo simulation behind the Plant port.
 *
 * Observations are `{ channel: 'state', stamp: physics time d.time, values: Float64Array copy }`.
 * Hinge angles are MuJoCo's qpos, unwrapped. States mapped to a `jointpos`/`jointvel` sensor are
 * set through their joint on reset; states mapped to any other sensor cannot be set and `reset`
 * leaves them to the physics.
 *
 * Per control period the only allocation is the emitted observation (plus, in free_running
 * mode, the scheduler's timer).
 */
export class MujocoPlant implements PlantPort {
  readonly channels: readonly { readonly name: string; readonly slots: readonly number[] }[];
  readonly observations$: Observable<Observation>;
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  readonly stateDim: number;
  readonly actionDim: number;
  /** MJCF timestep, s. */
  readonly timestep: number;
  /** Physics steps per control period. */
  readonly substeps: number;
  readonly controlPeriod: number;
  readonly mode: MujocoPlantMode;

  private readonly subject = new Subject<Observation>();
  private readonly scheduler: SchedulerLike;
  private readonly views: MjDataViews;
  private readonly viewSizes: readonly [nq: number, nv: number, nu: number, nsensordata: number];
  private readonly scratch: Float64Array; // [nx] for state()
  private closed = false;
  private ticker: Subscription | undefined;
  private anchorMs = 0; // scheduler time of physics time 0 (free_running)
  private periodsDone = 0; // control periods stepped since the anchor
  private skipped = 0;
  private clockEpoch = 0; // bumped by every (re)start, so a tick that outlived a restart stops
  private readonly tick = (): void => this.onTick();

  private constructor(
    private readonly mj: Mujoco,
    private readonly model: MjModel,
    private readonly data: MjData,
    private readonly map: StateMap,
    opts: MujocoPlantOptions,
    substeps: number,
  ) {
    this.stateNames = map.stateNames;
    this.actionNames = map.actionNames;
    this.stateDim = map.stateNames.length;
    this.actionDim = map.actionNames.length;
    this.timestep = model.opt.timestep;
    this.substeps = substeps;
    this.controlPeriod = opts.controlPeriod;
    this.mode = opts.mode;
    this.scheduler = opts.scheduler ?? asyncScheduler;
    this.channels = [{ name: STATE_CHANNEL, slots: Array.from({ length: this.stateDim }, (_, i) => i) }];
    this.observations$ = this.subject.asObservable();
    this.views = { qpos: data.qpos, qvel: data.qvel, ctrl: data.ctrl, sensordata: data.sensordata };
    this.viewSizes = [model.nq, model.nv, model.nu, model.nsensordata];
    this.scratch = new Float64Array(this.stateDim);
    mj.mj_forward(model, data);
    if (this.mode === 'free_running') this.startClock();
  }

  /** Loads the MJCF, checks the control period and the mapping; throws MpcdError SIM_MJCF | SIM_PERIOD | SIM_MAPPING. */
  static async create(opts: MujocoPlantOptions): Promise<MujocoPlant> {
    if (opts.mode !== 'lockstep' && opts.mode !== 'free_running') {
      throw new MpcdError('SIM_MODE', `unknown plant mode '${String(opts.mode)}'; use 'lockstep' or 'free_running'`);
    }
    const mj = await getMujoco();
    const model = await loadMjcf(opts.mjcfPath);
    try {
      const substeps = substepsPerPeriod(opts.controlPeriod, model.opt.timestep, opts.mjcfPath);
      const map = resolveStateMap(mj, model, opts.state, opts.actions);
      return new MujocoPlant(mj, model, new mj.MjData(model), map, opts, substeps);
    } catch (err) {
      model.delete();
      throw err;
    }
  }

  /** Physics time, s. */
  get time(): number {
    this.assertOpen('time');
    return this.data.time;
  }

  /** Control periods given up in free_running mode because the process fell behind by more than MAX_CATCH_UP. */
  get skippedPeriods(): number {
    return this.skipped;
  }

  /**
   * Resets MuJoCo, writes `initial` [nx] into the mapped qpos/qvel (physics time 0, ctrl 0) and
   * emits the initial observation synchronously. In free_running mode the plant's clock restarts:
   * physics time 0 is `clockOrigin` (scheduler ms; default now), so a caller can put its own
   * ticks in a known phase with the plant's periods.
   */
  reset(initial: ArrayLike<number>, clockOrigin?: number): void {
    this.assertOpen('reset');
    if (initial.length !== this.stateDim) {
      throw new MpcdError('SIM_STATE', `reset got a state of length ${initial.length}; this plant's state has ${this.stateDim}: ${this.stateNames.join(', ')}`);
    }
    for (let i = 0; i < initial.length; i++) {
      if (!Number.isFinite(initial[i])) throw new MpcdError('SIM_STATE', `reset got a non-finite value for '${this.stateNames[i]}'`);
    }
    const { mj, model, data } = this;
    mj.mj_resetData(model, data);
    const v = this.liveViews();
    writeState(this.map, v, initial);
    v.ctrl.fill(0);
    mj.mj_forward(model, data);
    if (this.mode === 'free_running') this.startClock(clockOrigin);
    this.emit();
  }

  /**
   * Sets ctrl from `action` [nu] (MuJoCo clamps it to each actuator's ctrlrange). In lockstep mode
   * also steps one control period and emits the resulting observation before returning.
   * Ignored after close (a pipeline may still be winding down).
   */
  send(action: Float32Array): void {
    if (this.closed) return;
    if (action.length !== this.actionDim) {
      throw new MpcdError('SIM_ACTION', `send got an action of length ${action.length}; this plant takes ${this.actionDim}: ${this.actionNames.join(', ')}`);
    }
    writeActions(this.map, this.liveViews(), action);
    if (this.mode === 'lockstep') {
      this.stepPeriod();
      this.emit();
    }
  }

  /** A copy of the current state vector [nx]. */
  state(): Float64Array {
    this.assertOpen('state');
    readState(this.map, this.liveViews(), this.scratch);
    return this.scratch.slice();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ticker?.unsubscribe();
    this.ticker = undefined;
    this.subject.complete();
    this.data.delete();
    this.model.delete();
  }

  private stepPeriod(): void {
    const { mj, model, data } = this;
    for (let s = 0; s < this.substeps; s++) mj.mj_step(model, data);
    // mj_step evaluates sensors before it integrates; bring them up to the new state.
    if (this.map.usesSensors) mj.mj_forward(model, data);
  }

  private emit(): void {
    const values = new Float64Array(this.stateDim);
    readState(this.map, this.liveViews(), values);
    this.subject.next({ channel: STATE_CHANNEL, stamp: this.data.time, values });
  }

  /** The MjData views, re-fetched if WASM memory grew since (a grown memory detaches old views). */
  private liveViews(): MjDataViews {
    const v = this.views;
    const [nq, nv, nu, ns] = this.viewSizes;
    if (v.qpos.length !== nq || v.qvel.length !== nv || v.ctrl.length !== nu || v.sensordata.length !== ns) {
      const d = this.data;
      v.qpos = d.qpos;
      v.qvel = d.qvel;
      v.ctrl = d.ctrl;
      v.sensordata = d.sensordata;
    }
    return v;
  }

  /** (Re)starts the free-running clock: physics time 0 is `origin` (default now); period k is due at anchor + k * period. */
  private startClock(origin = this.scheduler.now()): void {
    this.ticker?.unsubscribe();
    this.clockEpoch += 1;
    this.anchorMs = origin;
    this.periodsDone = 0;
    this.scheduleNext();
  }

  private scheduleNext(): void {
    // Absolute due times, so timer lateness does not accumulate into drift.
    const due = this.anchorMs + (this.periodsDone + 1) * this.controlPeriod * 1000;
    this.ticker = this.scheduler.schedule(this.tick, Math.max(0, due - this.scheduler.now()));
  }

  private onTick(): void {
    if (this.closed) return;
    const periodMs = this.controlPeriod * 1000;
    const now = this.scheduler.now();
    const epoch = this.clockEpoch;
    let steps = 0;
    // This tick's period, then any that fell due while the process was busy (a sim keeps pace with the clock).
    do {
      this.stepPeriod();
      this.periodsDone += 1;
      steps += 1;
      this.emit();
      // A subscriber may have closed or reset the plant (which restarted the clock) meanwhile.
      if (this.closed || this.clockEpoch !== epoch) return;
    } while (steps < MAX_CATCH_UP && this.anchorMs + (this.periodsDone + 1) * periodMs <= now);
    const behind = Math.floor((now - this.anchorMs) / periodMs) - this.periodsDone;
    if (behind > 0) {
      // Too far behind to catch up: give those periods up rather than spiral.
      this.skipped += behind;
      this.anchorMs += behind * periodMs;
    }
    this.scheduleNext();
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new MpcdError('SIM_CLOSED', `${what}() called on a closed MujocoPlant; create a new one`);
  }
}

/** controlPeriod / timestep as an integer, or MpcdError 'SIM_PERIOD' naming the nearest multiple. */
function substepsPerPeriod(controlPeriod: number, timestep: number, mjcfPath: string): number {
  if (!(Number.isFinite(controlPeriod) && controlPeriod > 0)) {
    throw new MpcdError('SIM_PERIOD', `control period must be a positive number of seconds, got ${controlPeriod}`);
  }
  const ratio = controlPeriod / timestep;
  const n = Math.max(1, Math.round(ratio));
  if (Math.abs(ratio - n) > 1e-6 * n) {
    throw new MpcdError(
      'SIM_PERIOD',
      `control period ${controlPeriod} s is not an integer multiple of the timestep ${timestep} s of ${mjcfPath}; ` +
        `the nearest multiple is ${+(n * timestep).toPrecision(12)} s (${n} steps)`,
    );
  }
  return n;
}
