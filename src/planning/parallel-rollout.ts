import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import type { TaskCost } from '../costs/task-cost.js';
import type { DynamicsModel } from '../models/dynamics.js';
import { HybridModel } from '../models/hybrid-model.js';
import { buildRolloutEngine } from './build-rollout-engine.js';
import type { RolloutEngine } from './rollout.js';
import { Slot, SLOTS, WorkerState, type ModelUpdate, type RolloutWorkerInit, type WorkerFailure } from './rollout-channel.js';
import type { RolloutEvaluator } from './rollout-evaluator.js';
import { maxShare, splitShares } from './rollout-shares.js';

/**
 * How long the planner waits for a worker to start (module loading, kernels; a GPU worker also
 * compiles its shader, which takes tens of seconds on a CPU Vulkan driver) or to finish a job.
 */
const START_TIMEOUT_MS = 180_000;
const JOB_TIMEOUT_MS = 10_000;

/** Whether and from what population size a GPU prices the samples instead of the cores. */
export interface GpuPlacement {
  readonly mode: 'auto' | 'off' | 'on';
  readonly minSamples: number;
}

/**
 * Rolls K samples out on all cores: the planner's thread prices the first share itself while
 * worker threads price the others, each with its own copy of the model and cost, reading the
 * sequences from and writing the costs to shared memory. Every share keeps the sample indices it
 * would have in one batch, so the result equals a single-threaded evaluation.
 *
 * With a GPU (WebGPU through Dawn, see src/gpu), populations of at least `gpu.minSamples` go to
 * one more worker that prices them all on the device; smaller ones stay on the cores, where the
 * round trip to a GPU would cost more than it saves.
 *
 * Per tick nothing is allocated: one notify per worker to start, one wait per worker to finish.
 * A new residual or value in the planner's HybridModel is noticed at the next evaluation and
 * sent to the workers once.
 */
export class ParallelRolloutEngine implements RolloutEvaluator {
  readonly stateDim: number;
  readonly actionDim: number;
  readonly horizon: number;
  readonly actions: Float32Array; // [H, maxSamples, nu], shared
  readonly threads: number;
  private readonly local: RolloutEngine; // this thread's share
  private readonly sharedCosts: Float32Array; // [maxSamples], shared
  private readonly x0: Float32Array; // [nx], shared
  private readonly ctrl: Int32Array; // [workers, SLOTS], shared
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly starts: Int32Array; // [threads + 1] share boundaries of the current job
  private readonly jobs: Int32Array; // [rows] each worker's last job number (CPU workers, then the GPU's)
  /** The GPU worker's row in the control slots, after the CPU workers'; -1 without one. */
  private gpuRow = -1;
  private gpuWorker: Worker | undefined;
  /** The GPU adapter in use, or why none is (undefined until the workers have started). */
  gpuAdapter: string | undefined;
  gpuUnavailable: string | undefined;
  private started = false;
  private updateSerial = 0;
  private sentResidual: unknown = undefined;
  private sentValue: unknown = undefined;

  constructor(
    config: Config,
    private readonly model: DynamicsModel,
    cost: TaskCost,
    readonly maxSamples: number,
    threads: number,
    private readonly gpu: GpuPlacement = { mode: 'off', minSamples: Infinity },
  ) {
    const H = config.planner.horizon;
    const nu = model.actionNames.length;
    const nx = model.stateNames.length;
    this.threads = Math.max(1, Math.min(threads, maxSamples));
    this.stateDim = nx;
    this.actionDim = nu;
    this.horizon = H;
    const actionsBuf = new SharedArrayBuffer(H * maxSamples * nu * 4);
    const costsBuf = new SharedArrayBuffer(maxSamples * 4);
    const x0Buf = new SharedArrayBuffer(nx * 4);
    const wantGpu = gpu.mode === 'on' || (gpu.mode === 'auto' && maxSamples >= gpu.minSamples);
    const ctrlBuf = new SharedArrayBuffer(Math.max(1, this.threads - 1 + (wantGpu ? 1 : 0)) * SLOTS * 4); // [rows, SLOTS]
    this.actions = new Float32Array(actionsBuf);
    this.sharedCosts = new Float32Array(costsBuf);
    this.x0 = new Float32Array(x0Buf);
    this.ctrl = new Int32Array(ctrlBuf);
    this.starts = new Int32Array(this.threads + 1);
    this.jobs = new Int32Array(this.threads);
    this.local = buildRolloutEngine(config, model, cost, maxSamples, this.actions);
    const share = maxShare(maxSamples, this.threads);
    for (let i = 0; i < this.threads - 1; i++) {
      const { port1, port2 } = new MessageChannel();
      const init: RolloutWorkerInit = { config, index: i, maxShare: share, maxSamples, actions: actionsBuf, costs: costsBuf, x0: x0Buf, liveParams: cost.live.buffer, control: ctrlBuf, port: port2 };
      const worker = new Worker(new URL('./rollout-worker.js', import.meta.url), { workerData: init, transferList: [port2] });
      worker.unref(); // an idle pool must not keep the process alive
      worker.on('error', () => {}); // reported through the control slots
      this.workers.push(worker);
      this.ports.push(port1);
    }
    if (wantGpu) {
      const { port1, port2 } = new MessageChannel();
      this.gpuRow = this.threads - 1;
      const init: RolloutWorkerInit = { config, index: this.gpuRow, maxShare: maxSamples, maxSamples, actions: actionsBuf, costs: costsBuf, x0: x0Buf, liveParams: cost.live.buffer, control: ctrlBuf, port: port2 };
      this.gpuWorker = new Worker(new URL('./gpu-rollout-worker.js', import.meta.url), { workerData: init, transferList: [port2] });
      this.gpuWorker.unref();
      this.gpuWorker.on('error', () => {});
      this.ports.push(port1);
    }
    if (model instanceof HybridModel) model.onChange(() => this.pushModel());
  }

  /**
   * A refit swapped the model between ticks: send it now and let every worker install it at
   * once (a job of no samples), so that building its networks is not part of the next tick.
   */
  private pushModel(): void {
    if (!this.started || this.ports.length === 0) return; // the first evaluation sends it
    this.sendModelIfChanged();
    for (let i = 0; i < this.workers.length; i++) {
      this.awaitJob(i, this.jobs[i]!);
      this.jobs[i] = this.startJob(i, 0, 0);
    }
    if (this.gpuRow >= 0) {
      this.awaitJob(this.gpuRow, this.jobs[this.gpuRow]!);
      this.jobs[this.gpuRow] = this.startJob(this.gpuRow, 0, 0);
    }
  }

  evaluate(x0: Float32Array, count: number, costs: Float32Array): void {
    if (!this.started) this.awaitStart();
    this.sendModelIfChanged();
    // A model pushed between ticks is usually installed by now; a job's slots are rewritten only
    // once the worker is done with the last one.
    for (let i = 0; i < this.workers.length; i++) this.awaitJob(i, this.jobs[i]!);
    if (this.gpuRow >= 0) this.awaitJob(this.gpuRow, this.jobs[this.gpuRow]!);
    if (this.gpuRow >= 0 && count >= this.gpu.minSamples) {
      this.x0.set(x0);
      const job = (this.jobs[this.gpuRow] = this.startJob(this.gpuRow, 0, count));
      this.awaitJob(this.gpuRow, job);
      for (let k = 0; k < count; k++) costs[k] = this.sharedCosts[k]!;
      return;
    }
    const W = this.workers.length;
    splitShares(count, W + 1, this.starts);
    this.x0.set(x0);
    for (let i = 0; i < W; i++) this.jobs[i] = this.startJob(i, this.starts[i + 1]!, this.starts[i + 2]! - this.starts[i + 1]!, count);
    this.local.evaluate(x0, this.starts[1]!, costs, 0, count);
    for (let i = 0; i < W; i++) this.awaitJob(i, this.jobs[i]!);
    for (let k = this.starts[1]!; k < count; k++) costs[k] = this.sharedCosts[k]!;
  }

  dispose(): void {
    const all = [...this.workers, ...(this.gpuWorker !== undefined ? [this.gpuWorker] : [])];
    all.forEach((worker, i) => {
      const row = i * SLOTS;
      Atomics.store(this.ctrl, row + Slot.stop, 1);
      Atomics.add(this.ctrl, row + Slot.job, 1);
      Atomics.notify(this.ctrl, row + Slot.job);
      this.ports[i]!.close();
      void worker.terminate();
    });
    this.workers.length = 0;
    this.gpuWorker = undefined;
    this.gpuRow = -1;
    this.started = false; // and no more model pushes
    this.ports.length = 0;
  }

  /** Hands worker row `row` samples [first, first + count) of `total`; returns the job number. */
  private startJob(row: number, first: number, count: number, total = count): number {
    const { ctrl } = this;
    const o = row * SLOTS;
    Atomics.store(ctrl, o + Slot.first, first);
    Atomics.store(ctrl, o + Slot.count, count);
    Atomics.store(ctrl, o + Slot.total, total);
    Atomics.store(ctrl, o + Slot.update, this.updateSerial);
    const job = Atomics.add(ctrl, o + Slot.job, 1) + 1;
    Atomics.notify(ctrl, o + Slot.job);
    return job;
  }

  private awaitJob(row: number, job: number): void {
    const o = row * SLOTS;
    for (;;) {
      const done = Atomics.load(this.ctrl, o + Slot.done);
      if (done === job) break;
      if (Atomics.wait(this.ctrl, o + Slot.done, done, JOB_TIMEOUT_MS) === 'timed-out') throw new Error(`${this.workerName(row)} did not finish a job within ${JOB_TIMEOUT_MS} ms`);
    }
    if (Atomics.load(this.ctrl, o + Slot.failed) !== 0) throw new Error(`${this.workerName(row)} failed: ${this.failure(row)}`);
  }

  /** For errors only: naming a worker on every wait would allocate a string per tick. */
  private workerName(row: number): string {
    return row === this.gpuRow ? 'the GPU rollout worker' : `rollout worker ${row + 1}`;
  }

  /**
   * Blocks until every worker has loaded its model (they start while the daemon sets up). A GPU
   * that cannot serve leaves the work to the cores, unless the config demands it (gpu: on).
   */
  private awaitStart(): void {
    for (let i = 0; i < this.workers.length; i++) {
      if (this.waitState(i) === WorkerState.failed) throw new Error(`rollout worker ${i + 1} failed to start: ${this.failure(i)}`);
    }
    if (this.gpuRow >= 0) {
      const state = this.waitState(this.gpuRow);
      const msg = receiveMessageOnPort(this.ports[this.gpuRow]!)?.message as { adapter?: string; error?: string } | undefined;
      if (state === WorkerState.ready) this.gpuAdapter = msg?.adapter ?? 'unknown adapter';
      else {
        this.gpuUnavailable = msg?.error ?? 'no reason given';
        if (this.gpu.mode === 'on') throw new Error(`planner.gpu is on but no GPU rollout can run: ${this.gpuUnavailable}`);
        void this.gpuWorker?.terminate();
        this.gpuWorker = undefined;
        this.gpuRow = -1;
      }
    }
    this.started = true;
  }

  private waitState(row: number): number {
    const slot = row * SLOTS + Slot.state;
    if (Atomics.wait(this.ctrl, slot, WorkerState.starting, START_TIMEOUT_MS) === 'timed-out') {
      throw new Error(`rollout worker ${row + 1} did not start within ${START_TIMEOUT_MS} ms`);
    }
    return Atomics.load(this.ctrl, slot);
  }

  private failure(row: number): string {
    const msg = receiveMessageOnPort(this.ports[row]!);
    return msg === undefined ? 'no reason given' : (msg.message as WorkerFailure).error;
  }

  /** A refit swapped the planner's residual or value: the workers get the same before the next job. */
  private sendModelIfChanged(): void {
    const m = this.model;
    if (!(m instanceof HybridModel) || this.ports.length === 0) return;
    if (m.residual === this.sentResidual && m.value === this.sentValue) return;
    this.sentResidual = m.residual;
    this.sentValue = m.value;
    const update: ModelUpdate = { serial: ++this.updateSerial, version: m.version, residual: m.residual?.snapshot, value: m.value?.snapshot };
    for (const p of this.ports) p.postMessage(update);
  }
}

/** Threads to use for `planner.threads`: auto = one per CPU in `planner.cpus`, or per core. */
export function rolloutThreads(config: Config): number {
  const t = config.planner.threads;
  if (t !== 'auto') return t;
  const cpus = config.planner.cpus;
  return cpus === 'any' ? availableParallelism() : cpus.length;
}
