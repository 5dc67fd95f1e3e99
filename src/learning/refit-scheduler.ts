import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Transition } from '../log/transition-schema.js';
import type { HybridModel } from '../models/hybrid-model.js';
import type { EnsembleSnapshot } from '../models/residual/ensemble-snapshot.js';
import { ResidualPredictor } from '../models/residual/residual-predictor.js';
import { ValuePredictor } from '../models/value/value-predictor.js';
import type { RefitRequest, RefitResponse } from './refit-protocol.js';
import type { ReplayBuffer } from './replay-buffer.js';
import { holdoutCount } from './residual-spec-for-config.js';
import type { BackgroundPriority } from './background-priority.js';
import { PlanningGate } from './planning-gate.js';

/**
 * How refits share time with the control loop:
 * - `realtime`: beside a loop on a real clock; the trainer runs under SCHED_IDLE and only between ticks.
 * - `beside`: beside a lock-step simulation, at nice 19; the simulation runs on while it trains.
 * - `pause`: a lock-step simulation's virtual clock stops until the refit is applied, as MBPO and
 *   PETS train between rollouts, so which model plans which tick does not depend on the machine.
 */
export type RefitTiming = 'realtime' | 'beside' | 'pause';

export interface RefitRecord {
  readonly version: number;
  readonly accepted: boolean;
  readonly score: number;
  readonly previous_score: number;
  readonly rows: number;
  readonly epochs: number;
  readonly seconds: number;
}

/**
 * Decides when to refit and swaps the result in. Every logged transition goes into the replay
 * buffer; every `refit_every_transitions` new transitions or `refit_every_seconds`, whichever
 * comes first, a copy of the buffer goes to the refit worker (one refit at a time). When the
 * worker answers with a candidate that beat the residual in use on the held-out most recent
 * transitions, the new predictor is installed in the hybrid model between two planning calls.
 */
export class RefitScheduler {
  private worker: Worker | undefined;
  /** Our end of the channel the worker answers on, polled synchronously. */
  private results: MessagePort | undefined;
  private inFlight: number | undefined; // id of the refit running
  private ready = false; // the worker has loaded and warmed up
  private sinceRefit = 0;
  private lastRefitAt: number; // ms on `now`'s clock: the first time trigger counts from construction
  private robotMs = NaN; // the latest transition's time, ms: the default clock
  private nextId = 1;
  private tFrom = Infinity;
  private tTo = -Infinity;
  private current: { snapshot: EnsembleSnapshot; version: number } | undefined;
  readonly history: RefitRecord[] = [];
  errors = 0;
  /** Real time only: the flag the trainer waits on while the planner plans (planning-gate.ts). */
  private readonly gate: PlanningGate | undefined;
  /** Something to Atomics.wait on while a lock-step run pauses for a refit. */
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));
  readonly planningHook: ((busy: boolean) => void) | undefined;
  private readonly now: () => number;
  private readonly priority: BackgroundPriority;

  constructor(
    private readonly config: Config,
    private readonly model: HybridModel,
    private readonly buffer: ReplayBuffer,
    private readonly storeDir: string,
    private readonly log: Logger,
    /** ms; default the robot's time, read off the transitions, so a lock-step run counts virtual seconds. */
    now: (() => number) | undefined = undefined,
    private readonly timing: RefitTiming = 'beside',
  ) {
    this.now = now ?? (() => this.robotMs);
    this.lastRefitAt = this.now();
    // How far the refit thread steps back (see background-priority.ts): an idle-class thread
    // would never run beside a lock-step simulation, which never leaves the CPU idle.
    this.priority = timing === 'realtime' ? 'idle' : 'nice';
    // On a real clock the trainer also waits out each tick's planning; in lock-step simulation
    // planning never pauses, so it must not.
    if (timing === 'realtime') {
      const gate = new PlanningGate();
      this.gate = gate;
      this.planningHook = (busy) => gate.set(busy);
    }
  }

  /** A refit is running in the worker right now. */
  get refitting(): boolean {
    return this.inFlight !== undefined;
  }

  /** The worker thread has loaded and warmed up (see warmUp). */
  get workerReady(): boolean {
    return this.ready;
  }

  /** The residual in use at start (loaded from the store), so a refit must beat it. */
  setCurrent(snapshot: EnsembleSnapshot, version: number): void {
    this.current = { snapshot, version };
  }

  /**
   * The transition log's tap: feed the buffer, maybe start a refit. Cheap and never waits, but
   * for lock-step 'pause', where the transition that starts a refit returns once it is applied.
   */
  onTransition(tr: Transition): void {
    this.poll();
    this.robotMs = 1000 * tr.t;
    // The robot clock's time trigger counts from the first transition.
    if (Number.isNaN(this.lastRefitAt)) this.lastRefitAt = this.now();
    if (!this.buffer.add(tr)) return;
    this.sinceRefit++;
    this.tFrom = Math.min(this.tFrom, tr.t);
    this.tTo = Math.max(this.tTo, tr.t);
    const l = this.config.learning;
    if (!l.enabled || this.inFlight !== undefined || this.buffer.size < l.min_transitions) return;
    const due = this.sinceRefit >= l.refit_every_transitions || (this.now() - this.lastRefitAt) / 1000 >= l.refit_every_seconds;
    if (!due) return;
    this.start();
    if (this.timing === 'pause') this.waitInVirtualTime();
  }

  /**
   * Starts the worker thread and waits until it has loaded and warmed up, so that none of that
   * happens next to a running control loop. Never throws: a worker that fails here fails its
   * refits later, and the daemon keeps the model it has.
   */
  async warmUp(timeoutMs = 120_000): Promise<void> {
    this.ensureWorker();
    const deadline = performance.now() + timeoutMs;
    while (!this.ready && this.worker !== undefined && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      this.poll();
    }
    if (!this.ready) this.log.warn({ waited_ms: timeoutMs }, 'refit worker not ready; the first refit will load it next to the control loop');
  }

  /** Starts a refit now (unless one runs). */
  start(): void {
    if (this.inFlight !== undefined) return;
    const n = this.buffer.size;
    const holdout = holdoutCount(this.config, n);
    const rows = this.buffer.snapshot();
    const id = this.nextId++;
    const req: RefitRequest = {
      id,
      config: this.config,
      rows,
      n,
      holdout,
      current: this.current,
      storeDir: this.storeDir,
      span: { t_from: this.tFrom, t_to: this.tTo, transitions: this.buffer.total },
      seed: this.config.seed * 1000 + id,
    };
    this.sinceRefit = 0;
    this.lastRefitAt = this.now();
    const { worker } = this.ensureWorker();
    this.inFlight = id;
    this.log.info({ id, rows: n - holdout, holdout }, 'refit started');
    worker.postMessage(req, [rows.buffer as ArrayBuffer]);
  }

  /**
   * Applies a finished refit, if one is waiting (and notes the worker's ready message). Polled on
   * every transition: a lock-step simulation runs whole episodes without returning to the event
   * loop, and a swap belongs between two ticks in any case.
   */
  poll(): void {
    if ((this.inFlight === undefined && this.ready) || this.results === undefined) return;
    const got = receiveMessageOnPort(this.results);
    if (got === undefined) return;
    const res = got.message as RefitResponse;
    if (res.kind === 'ready') return this.onReady(res);
    if (res.id !== this.inFlight) return;
    this.inFlight = undefined;
    this.apply(res);
  }

  /**
   * Lock-step 'pause': blocks until the refit in flight is applied. The simulation never returns
   * to the event loop inside an episode, so this waits synchronously, polling the result port.
   * A worker that dies or a refit that runs past its cap (learning.max_seconds, with room for
   * the value fit and the save) ends the wait with a warning, and the run goes on beside it.
   */
  private waitInVirtualTime(): void {
    const capMs = 1000 * (3 * this.config.learning.max_seconds + 60);
    const started = performance.now();
    while (this.inFlight !== undefined) {
      Atomics.wait(this.sleeper, 0, 0, 5);
      this.poll();
      if (this.inFlight === undefined) break;
      if (this.worker === undefined || this.worker.threadId === -1) return; // its error event says why
      if (performance.now() - started > capMs) {
        this.log.warn({ waited_s: capMs / 1000 }, 'refit still running; the lock-step simulation goes on beside it');
        return;
      }
    }
    this.log.debug({ paused_s: (performance.now() - started) / 1000 }, 'virtual clock paused for the refit');
  }

  /** Waits for the refit in flight, if any, and applies it. */
  async settle(): Promise<void> {
    while (this.inFlight !== undefined) {
      await new Promise((r) => setTimeout(r, 20));
      this.poll();
    }
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.results?.close();
    this.results = undefined;
    // A refit cut short loses nothing: the store writes each version atomically.
    if (w !== undefined) await w.terminate();
  }

  private onReady(res: Extract<RefitResponse, { kind: 'ready' }>): void {
    this.ready = true;
    if (res.error !== undefined) this.log.warn({ err: res.error }, 'refit worker warm-up failed');
    else this.log.info({ backend: res.backend, priority: res.priority, cpus: res.pinned ? this.config.learning.cpus : 'any' }, 'refit worker ready');
  }

  private apply(res: Exclude<RefitResponse, { kind: 'ready' }>): void {
    if (res.kind === 'error') {
      this.errors++;
      this.log.error({ err: res.message }, 'refit failed; the model in use stays');
      return;
    }
    this.history.push({
      version: res.version,
      accepted: res.accepted,
      score: res.score,
      previous_score: res.previousScore,
      rows: res.report.rows,
      epochs: res.report.epochs,
      seconds: res.report.seconds,
    });
    if (!res.accepted || res.snapshot === undefined) {
      this.log.info({ version: res.version, score: res.score, previous: res.previousScore }, 'refit kept out: not better than the model in use');
      return;
    }
    this.model.setResidual(new ResidualPredictor(res.snapshot, this.model.maxBatch), res.version);
    // The old value belongs to the old model: replace it, or drop it when none was fitted.
    this.model.setValue(res.value === undefined ? undefined : new ValuePredictor(res.value, this.model.maxBatch));
    this.current = { snapshot: res.snapshot, version: res.version };
    this.log.info({ version: res.version, score: res.score, previous: res.previousScore }, 'residual swapped in');
  }

  private ensureWorker(): { worker: Worker } {
    if (this.worker === undefined) {
      const { port1, port2 } = new MessageChannel();
      const workerData = { results: port2, priority: this.priority, gate: this.gate?.buffer, config: this.config };
      const worker = new Worker(new URL('./refit-worker.js', import.meta.url), { workerData, transferList: [port2] });
      worker.on('error', (err) => {
        // The worker died (out of memory, a bug): keep the model in use, start a fresh worker next time.
        this.errors++;
        this.log.error({ err: err.message }, 'refit worker failed; the model in use stays');
        this.worker = undefined;
        this.inFlight = undefined;
        this.ready = false;
      });
      this.worker = worker;
      this.results = port1;
    }
    return { worker: this.worker };
  }
}
