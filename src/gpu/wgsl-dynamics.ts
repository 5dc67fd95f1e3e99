import type { Config } from '../config/schema.js';
import { robotDescriptor } from '../models/analytic/registry.js';
import type { ParamBlock } from './param-block.js';
import { emitRigidBodyDynamics } from './wgsl-rigid-body.js';

/**
 * The model's continuous dynamics in WGSL:
 *   fn dynamics(s: array<f32, nx>, a: array<f32, nu>) -> array<f32, nx>   (d/dt of the state)
 * For an analytic robot, the `wgsl` part of its descriptor (src/models/analytic/<robot>.ts);
 * for a rigid-body model, its kinematic tree's articulated-body algorithm (wgsl-rigid-body.ts).
 * Constants derived from the params are computed there in float64, as the TypeScript does once
 * per model, and read from the params buffer. Undefined when the descriptor has no WGSL part.
 */
export function emitDynamics(model: Config['model'], block: ParamBlock): string | undefined {
  if (model.kind === 'rigid_body') return emitRigidBodyDynamics(model.tree, model.frictionloss_velocity, block);
  const robot = robotDescriptor(model.robot);
  if (robot.wgsl === undefined) return undefined;
  return robot.wgsl.dynamics(robot.params.parse(model.params), block);
}
