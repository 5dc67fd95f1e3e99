import type { Config } from '../config/schema.js';
import { nativeAnalyticModel } from './analytic/native-analytic-model.js';
import { createAnalytic } from './analytic/registry.js';
import type { DynamicsModel } from './dynamics.js';
import { HybridModel } from './hybrid-model.js';
import { discretize } from './integrators.js';

/**
 * The analytic robot from config, integrated over one control period: by the native addon where
 * it loads and has the robot (MPCD_NO_NATIVE=1 forces the portable TypeScript), else in TypeScript.
 */
export function buildAnalyticModel(config: Config, maxBatch: number): DynamicsModel {
  const m = config.model;
  const native = nativeAnalyticModel({ robot: m.robot, params: m.params, integrator: m.integrator, substeps: m.substeps, maxBatch });
  return native ?? discretize(createAnalytic(m.robot, m.params), m.integrator, m.substeps, maxBatch);
}

/**
 * The planner's model from config: the analytic model, wrapped in a HybridModel when the config
 * has `model.residual` (the residual itself is installed later, once one is loaded or trained).
 */
export function buildModel(config: Config, maxBatch: number): DynamicsModel {
  const analytic = buildAnalyticModel(config, maxBatch);
  return config.model.residual === undefined ? analytic : new HybridModel(analytic);
}
