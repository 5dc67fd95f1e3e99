import type { TaskCost } from '../costs/task-cost.js';
import type { DynamicsModel } from '../models/dynamics.js';

/**
 * The plan as the model predicts it: the plan's actions rolled out from the state it was planned
 * from, one sample, with what each cost term adds along the way. For the daemon's status and
 * live views, between ticks, never inside one. `cost` must be a TaskCost of its own (its totals
 * are overwritten); scratch is allocated once.
 */
export class PlanPreview {
  /** [kept + 1, nx] predicted states, the first the state planned from; kept = min(steps, horizon) */
  readonly states: Float32Array;
  /** [terms] each term's share of the plan's cost: running weights along it, terminal at its end */
  readonly termCosts: Float64Array;
  private readonly nx: number;
  private readonly nu: number;
  private readonly kept: number;
  private readonly row: Float32Array; // [nx]
  private readonly next: Float32Array; // [nx]
  private readonly action: Float32Array; // [nu]
  private readonly scratch = new Float32Array(1);

  constructor(
    private readonly model: DynamicsModel,
    private readonly cost: TaskCost,
    readonly horizon: number,
    steps: number,
  ) {
    this.nx = model.stateNames.length;
    this.nu = model.actionNames.length;
    this.kept = Math.min(steps, horizon);
    this.states = new Float32Array((this.kept + 1) * this.nx);
    this.termCosts = new Float64Array(cost.terms.length);
    this.row = new Float32Array(this.nx);
    this.next = new Float32Array(this.nx);
    this.action = new Float32Array(this.nu);
  }

  /** Rolls `plan` [horizon, nu] out from `x0` [nx] over steps of `dt` s; fills `states` and `termCosts`. */
  update(x0: ArrayLike<number>, plan: Float32Array, dt: number): void {
    const { nx, nu, model, cost, row, next, action, scratch } = this;
    for (let i = 0; i < nx; i++) row[i] = x0[i]!;
    this.states.set(row, 0);
    cost.clearTotals();
    for (let t = 0; t < this.horizon; t++) {
      for (let j = 0; j < nu; j++) action[j] = plan[t * nu + j]!;
      model.step(row, action, next, 1, dt);
      cost.addRunning(next, action, 1, scratch);
      if (t === this.horizon - 1) cost.addTerminal(next, action, 1, scratch);
      if (t < this.kept) this.states.set(next, (t + 1) * nx);
      row.set(next);
    }
    this.termCosts.set(cost.totals);
  }
}
