import type { Config } from '../config/schema.js';
import { buildTaskCost } from '../costs/build-task-cost.js';
import type { LiveParamValues } from '../costs/task-params.js';
import type { ControlStatus } from '../io/control-status.js';
import type { PlantPort } from '../io/plant.js';
import type { DynamicsModel } from '../models/dynamics.js';
import { PlanPreview } from '../planning/plan-preview.js';
import type { Planner } from '../planning/planner.js';
import type { SafetySupervisor } from '../safety/safety-supervisor.js';
import type { ControlStep } from './control-loop.js';

/**
 * Publishes what the daemon is doing (src/io/control-status.ts) every `1 / status.rate` s of
 * control ticks, after the tick's action went out: the arming state and faults, the goal, the
 * state and action, the plan's first predicted states and what each cost term adds along it.
 * Counted in ticks, so a lock-step run reports at the same points of its virtual time.
 */
export class ControlStatusReporter {
  private readonly every: number;
  private readonly preview: PlanPreview;
  private readonly termNames: string[];
  private readonly dt: number;

  constructor(
    config: Config,
    private readonly model: DynamicsModel,
    private readonly planner: Planner,
    private readonly live: LiveParamValues,
    private readonly safety: SafetySupervisor,
    private readonly plant: PlantPort,
  ) {
    this.dt = config.control.period;
    this.every = Math.max(1, Math.round(1 / (config.status.rate * this.dt)));
    // A cost of its own: the planner's keeps its per-term totals for its own diagnostics.
    const cost = buildTaskCost(config, model, live);
    this.termNames = cost.terms.map((t) => t.name);
    this.preview = new PlanPreview(model, cost, planner.horizon, config.status.plan_states);
  }

  onStep(step: ControlStep, episode: number, now: number): void {
    if (step.index % this.every !== 0 || step.action === undefined) return;
    const { model, preview } = this;
    preview.update(step.state, this.planner.plan, this.dt);
    const nx = model.stateNames.length;
    const named = (names: readonly string[], values: ArrayLike<number>): Record<string, number> => Object.fromEntries(names.map((n, i) => [n, values[i]!]));
    const states: number[][] = [];
    for (let r = 0; r < preview.states.length / nx; r++) states.push(Array.from(preview.states.subarray(r * nx, (r + 1) * nx)));
    const status: ControlStatus = {
      t: now,
      episode,
      tick: step.index,
      mode: this.safety.state,
      faults: this.safety.faults,
      goal: this.live.current(),
      state: named(model.stateNames, step.state),
      action: named(model.actionNames, step.action),
      plan: { dt: this.dt, state_names: model.stateNames, states },
      costs: named(this.termNames, preview.termCosts),
      planning_ms: step.planMs,
    };
    this.plant.reportStatus?.(status);
  }
}
