import type { DynamicsModel } from '../models/dynamics.js';
import type { CostTerm } from '../costs/cost-term.js';
import type { TaskCost } from '../costs/task-cost.js';
import type { RolloutEvaluator } from './rollout-evaluator.js';

/**
 * Evaluates K action sequences from one start state: propagates all samples through the
 * batched model one horizon step at a time and accumulates the task cost.
 *
 * Layouts:
 *   actions [H, maxSamples, nu]  step-major, so each step's actions are one contiguous block
 *   costs   [maxSamples]
 * Views of each step's block are made once, so `evaluate` allocates nothing.
 */
export class RolloutEngine implements RolloutEvaluator {
  readonly stateDim: number;
  readonly actionDim: number;
  private cur: Float32Array; // [maxSamples, nx]
  private next: Float32Array; // [maxSamples, nx]
  private readonly stepViews: Float32Array[] = [];

  constructor(
    readonly model: DynamicsModel,
    readonly cost: TaskCost,
    readonly maxSamples: number,
    readonly horizon: number,
    readonly dt: number,
    readonly actions: Float32Array,
    /** Planning-only costs (model uncertainty, a learned terminal value), added after the task's. */
    private readonly penalties: readonly CostTerm[] = [],
  ) {
    this.stateDim = model.stateNames.length;
    this.actionDim = model.actionNames.length;
    if (model.maxBatch < maxSamples) throw new RangeError(`model batch ${model.maxBatch} < samples ${maxSamples}`);
    if (actions.length !== horizon * maxSamples * this.actionDim) throw new RangeError('actions must be [H, K, nu]');
    this.cur = new Float32Array(maxSamples * this.stateDim);
    this.next = new Float32Array(maxSamples * this.stateDim);
    const block = maxSamples * this.actionDim;
    for (let t = 0; t < horizon; t++) this.stepViews.push(actions.subarray(t * block, (t + 1) * block));
  }

  /**
   * costs[k] = total cost of sample k's sequence, for k < count, starting from x0 [nx].
   * These are samples [first, first + count) of a population of `total` (a worker's share):
   * models that treat samples by index, such as an ensemble's member split, need to know.
   */
  evaluate(x0: Float32Array, count: number, costs: Float32Array, first = 0, total = count): void {
    const nx = this.stateDim;
    this.model.setSampleWindow?.(first, total);
    for (let k = 0; k < count; k++) this.cur.set(x0, k * nx);
    costs.fill(0, 0, count);
    let a = this.stepViews[0]!;
    for (let t = 0; t < this.horizon; t++) {
      a = this.stepViews[t]!;
      this.model.step(this.cur, a, this.next, count, this.dt);
      this.cost.addRunning(this.next, a, count, costs);
      for (const p of this.penalties) p.addRunning(this.next, a, count, costs);
      const swap = this.cur;
      this.cur = this.next;
      this.next = swap;
    }
    this.cost.addTerminal(this.cur, a, count, costs);
    for (const p of this.penalties) p.addTerminal(this.cur, a, count, costs);
    // A diverged rollout must lose, not poison the weights.
    for (let k = 0; k < count; k++) if (!Number.isFinite(costs[k]!)) costs[k] = 3.4e38;
    this.model.setSampleWindow?.(0, 0); // other callers' batches are whole populations
  }

  dispose(): void {}
}
