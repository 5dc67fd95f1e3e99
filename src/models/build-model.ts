import type { Config } from '../config/schema.js';
import { createAnalytic } from './analytic/registry.js';
import type { DynamicsModel } from './dynamics.js';
import { HybridModel } from './hybrid-model.js';
import { discretize } from './integrators.js';
import type { ResidualSpec } from './residual/residual-spec.js';

/** The analytic robot from config, integrated over one control period. */
export function buildAnalyticModel(config: Config, maxBatch: number): DynamicsModel {
  const m = config.model;
  return discretize(createAnalytic(m.robot, m.params), m.integrator, m.substeps, maxBatch);
}

/**
 * The planner's model from config: the analytic model, wrapped in a HybridModel when the config
 * has `model.residual` (the residual itself is installed later, once one is loaded or trained).
 */
export function buildModel(config: Config, maxBatch: number): DynamicsModel {
  const analytic = buildAnalyticModel(config, maxBatch);
  return config.model.residual === undefined ? analytic : new HybridModel(analytic);
}

/** The residual's architecture for this config's robot; undefined without `model.residual`. */
export function residualSpec(config: Config, model: DynamicsModel): ResidualSpec | undefined {
  const r = config.model.residual;
  if (r === undefined) return undefined;
  return { stateNames: model.stateNames, actionNames: model.actionNames, angular: model.angular, hidden: r.hidden, members: r.members };
}
