import type { Config } from '../config/schema.js';
import { createAnalytic } from './analytic/registry.js';
import type { DynamicsModel } from './dynamics.js';
import { discretize } from './integrators.js';

/** The planner's model from config: the analytic robot, integrated over one control period. */
export function buildModel(config: Config, maxBatch: number): DynamicsModel {
  const m = config.model;
  return discretize(createAnalytic(m.robot, m.params), m.integrator, m.substeps, maxBatch);
}
