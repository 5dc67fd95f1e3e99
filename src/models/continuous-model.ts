import type { ModelConfig } from '../config/model-schema.js';
import { createAnalytic } from './analytic/registry.js';
import type { ContinuousDynamics } from './dynamics.js';
import { rigidBodyDynamics } from './rigid-body/rigid-body-dynamics.js';

/** The config's model in continuous time (TypeScript): names, angle flags and d/dt state. */
export function continuousModel(model: ModelConfig): ContinuousDynamics {
  return model.kind === 'analytic' ? createAnalytic(model.robot, model.params) : rigidBodyDynamics(model.tree, { frictionVelocity: model.frictionloss_velocity });
}

/** How the model is named in logs and summaries: the robot, or the tree's name and its file. */
export function modelLabel(model: ModelConfig): string {
  return model.kind === 'analytic' ? model.robot : `rigid_body ${model.tree.name}`;
}
