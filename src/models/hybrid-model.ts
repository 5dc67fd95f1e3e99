import type { DynamicsModel } from './dynamics.js';
import type { ResidualPredictor } from './residual/residual-predictor.js';
import type { ValuePredictor } from './value/value-predictor.js';

/**
 * The planner's model: s' = f_analytic(s, a) + residual(s, a). Without a residual (none trained
 * yet, or every stored version failed to load) it is the analytic model alone, version 0.
 * `setResidual` swaps the predictor between planning calls: JavaScript runs one task at a time,
 * so a swap can never land inside a rollout.
 */
export class HybridModel implements DynamicsModel {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  readonly angular: readonly boolean[];
  readonly maxBatch: number;
  private predictor: ResidualPredictor | undefined;
  private currentVersion = 0;
  /** [maxBatch] members' disagreement of the last step, filled only while `trackDisagreement`. */
  readonly disagreement: Float32Array;
  trackDisagreement = false;

  constructor(readonly analytic: DynamicsModel) {
    this.stateNames = analytic.stateNames;
    this.actionNames = analytic.actionNames;
    this.angular = analytic.angular;
    this.maxBatch = analytic.maxBatch;
    this.disagreement = new Float32Array(analytic.maxBatch);
  }

  /** Version of the residual in use; 0 = analytic model only. */
  get version(): number {
    return this.currentVersion;
  }

  get residual(): ResidualPredictor | undefined {
    return this.predictor;
  }

  /** The terminal value fitted on this model's imagined rollouts, if any (ValueTerminalCost reads it). */
  get value(): ValuePredictor | undefined {
    return this.valuePredictor;
  }
  private valuePredictor: ValuePredictor | undefined;

  /** Installs a terminal value (or none) and frees the old one's tensors. */
  setValue(value: ValuePredictor | undefined): void {
    const old = this.valuePredictor;
    this.valuePredictor = value;
    if (old !== undefined && old !== value) old.dispose();
    for (const l of this.listeners) l();
  }

  /** Calls `listener` after every setResidual and setValue (rollout workers copy the model). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
  private readonly listeners: (() => void)[] = [];

  /** Installs a new residual (or none) and frees the old one's tensors. */
  setResidual(predictor: ResidualPredictor | undefined, version: number): void {
    const old = this.predictor;
    this.predictor = predictor;
    this.currentVersion = predictor === undefined ? 0 : version;
    if (old !== undefined && old !== predictor) old.dispose();
    for (const l of this.listeners) l();
  }

  setSampleWindow(first: number, total: number): void {
    this.windowFirst = first;
    this.windowTotal = total;
  }
  private windowFirst = 0;
  private windowTotal = 0; // 0: the batch is the whole population

  step(states: Float32Array, actions: Float32Array, out: Float32Array, count: number, dt: number): void {
    this.analytic.step(states, actions, out, count, dt);
    if (this.predictor === undefined) {
      if (this.trackDisagreement) this.disagreement.fill(0, 0, count);
      return;
    }
    const first = this.windowTotal > 0 ? this.windowFirst : 0;
    const total = this.windowTotal > 0 ? this.windowTotal : count;
    this.predictor.addResidual(states, actions, out, count, this.trackDisagreement ? this.disagreement : undefined, first, total);
  }
}
