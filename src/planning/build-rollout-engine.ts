import type { Config } from '../config/schema.js';
import type { CostTerm } from '../costs/cost-term.js';
import type { TaskCost } from '../costs/task-cost.js';
import { UncertaintyPenalty } from '../costs/uncertainty-penalty.js';
import { ValueTerminalCost } from '../costs/value-terminal-cost.js';
import type { DynamicsModel } from '../models/dynamics.js';
import { HybridModel } from '../models/hybrid-model.js';
import { RolloutEngine } from './rollout.js';

/**
 * A single-threaded rollout engine for the configured task: the model, the task cost and the
 * planning-only penalties the config asks for. The planner's own thread and every rollout
 * worker build theirs with this, so they price samples identically.
 * actions [H, maxSamples, nu].
 */
export function buildRolloutEngine(config: Config, model: DynamicsModel, cost: TaskCost, maxSamples: number, actions: Float32Array): RolloutEngine {
  const weight = config.model.residual?.uncertainty_weight ?? 0;
  const penalties: CostTerm[] = [];
  if (model instanceof HybridModel) {
    if (weight > 0) penalties.push(new UncertaintyPenalty(model, weight));
    const value = config.learning.value;
    if (value.enabled && value.weight > 0) penalties.push(new ValueTerminalCost(model, value.weight));
  }
  return new RolloutEngine(model, cost, maxSamples, config.planner.horizon, config.control.period, actions, penalties);
}
