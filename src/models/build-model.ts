import type { Config } from '../config/schema.js';
import { nativeAnalyticModel } from './analytic/native-analytic-model.js';
import { continuousModel } from './continuous-model.js';
import type { DynamicsModel } from './dynamics.js';
import { HybridModel } from './hybrid-model.js';
import { nativeRigidBodyModel } from './rigid-body/native-rigid-body-model.js';
import { discretize } from './integrators.js';

/**
 * The nominal model from config (an analytic robot, or a rigid-body tree from its file), integrated
 * over one control period: by the native addon where it loads and has the model
 * (MPCD_NO_NATIVE=1 forces the portable TypeScript), else in TypeScript.
 */
export function buildAnalyticModel(config: Config, maxBatch: number): DynamicsModel {
  const m = config.model;
  const native =
    m.kind === 'analytic'
      ? nativeAnalyticModel({ robot: m.robot, params: m.params, integrator: m.integrator, substeps: m.substeps, maxBatch })
      : nativeRigidBodyModel({ tree: m.tree, options: { frictionVelocity: m.frictionloss_velocity }, integrator: m.integrator, substeps: m.substeps, maxBatch });
  return native ?? discretize(continuousModel(m), m.integrator, m.substeps, maxBatch);
}

/**
 * The planner's model from config: the nominal model, wrapped in a HybridModel when the config
 * has `model.residual` (the residual itself is installed later, once one is loaded or trained).
 */
export function buildModel(config: Config, maxBatch: number): DynamicsModel {
  const analytic = buildAnalyticModel(config, maxBatch);
  return config.model.residual === undefined ? analytic : new HybridModel(analytic);
}
