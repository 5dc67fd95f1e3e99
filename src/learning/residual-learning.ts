import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Transition } from '../log/transition-schema.js';
import type { HybridModel } from '../models/hybrid-model.js';
import { prepareResidualKernel } from '../models/residual/prepare-kernel.js';
import { ResidualPredictor } from '../models/residual/residual-predictor.js';
import { selectTfBackend, type TfBackendName } from '../models/residual/tf-backend.js';
import { ValuePredictor } from '../models/value/value-predictor.js';
import { ModelStore } from './model-store.js';
import { RefitScheduler, type RefitRecord } from './refit-scheduler.js';
import { ReplayBuffer } from './replay-buffer.js';
import { requireResidualSpec } from './residual-spec-for-config.js';

/**
 * The learned half of a running daemon, in one place: picks the tfjs backend and the planner's
 * MLP kernel, starts the hybrid
 * model from the newest good stored version (or the analytic model when there is none, or none
 * loads), and, with `learning.enabled`, feeds every logged transition to the refit scheduler.
 */
export class ResidualLearning {
  private constructor(
    readonly model: HybridModel,
    readonly backend: TfBackendName,
    /** The planner's MLP kernel, e.g. native-avx512. */
    readonly kernel: string,
    readonly store: ModelStore,
    readonly startVersion: number,
    private readonly scheduler: RefitScheduler | undefined,
  ) {}

  /**
   * `realtime`: the control loop runs on a real clock, so refits may only use idle CPU time;
   * otherwise learning.lockstep_refits says whether the simulation waits for them.
   */
  static async start(config: Config, model: HybridModel, modelDir: string, log: Logger, realtime = false): Promise<ResidualLearning> {
    const residual = config.model.residual;
    if (residual === undefined) throw new Error('ResidualLearning needs model.residual');
    const backend = await selectTfBackend(residual.backend, log);
    const kernel = await prepareResidualKernel(config, log);
    const spec = requireResidualSpec(config, model.analytic, 'the config');
    const store = new ModelStore(modelDir);
    const loaded = store.loadPreferred(spec, log);
    if (loaded !== undefined) {
      model.setResidual(new ResidualPredictor(loaded.snapshot, model.maxBatch), loaded.version);
      if (loaded.value !== undefined) model.setValue(new ValuePredictor(loaded.value, model.maxBatch));
      log.info({ version: loaded.version, dir: store.dir, terminal_value: loaded.value !== undefined }, 'residual model loaded');
    }
    let scheduler: RefitScheduler | undefined;
    if (config.learning.enabled) {
      const buffer = new ReplayBuffer(spec.stateNames.length, spec.actionNames.length, config.learning.buffer_capacity);
      scheduler = new RefitScheduler(config, model, buffer, store.dir, log, undefined, realtime ? 'realtime' : config.learning.lockstep_refits);
      if (loaded !== undefined) scheduler.setCurrent(loaded.snapshot, loaded.version);
      await scheduler.warmUp();
    }
    return new ResidualLearning(model, backend, kernel?.name ?? 'none', store, loaded?.version ?? 0, scheduler);
  }

  /** Version of the residual in use; 0 = the analytic model alone. */
  get version(): number {
    return this.model.version;
  }

  get refitting(): boolean {
    return this.scheduler?.refitting ?? false;
  }

  get refits(): readonly RefitRecord[] {
    return this.scheduler?.history ?? [];
  }

  /** Tells a real-time refit when the planner is busy (undefined in lock-step simulation). */
  get planningHook(): ((busy: boolean) => void) | undefined {
    return this.scheduler?.planningHook;
  }

  onTransition(tr: Transition): void {
    this.scheduler?.onTransition(tr);
  }

  /** Waits for a refit in flight (e.g. before a final report). */
  async settle(): Promise<void> {
    await this.scheduler?.settle();
  }

  async close(): Promise<void> {
    await this.scheduler?.close();
  }
}
