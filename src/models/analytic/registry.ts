import type { ContinuousDynamics } from '../dynamics.js';
import { cartpoleRobot } from './cartpole.js';
import { pendulumRobot } from './pendulum.js';
import { continuousDynamics, type AnyRobotDescriptor } from './robot-descriptor.js';

/**
 * Every analytic robot mpcd knows, one line each; `model.robot` in config is a descriptor's name.
 * To add a robot: write its file beside this one exporting its RobotDescriptor (defineRobot), and
 * add it here; the config schema, the native and GPU paths and the parity tests follow.
 */
export const robots = [
  cartpoleRobot,
  pendulumRobot,
] as const;

export type RobotName = (typeof robots)[number]['name'];
export const robotNames: readonly RobotName[] = robots.map((r) => r.name);

const byName = new Map<string, AnyRobotDescriptor>(robots.map((r) => [r.name, r]));

/** The robot's descriptor; throws a RangeError for a name not registered. */
export function robotDescriptor(name: string): AnyRobotDescriptor {
  const robot = byName.get(name);
  if (robot === undefined) throw new RangeError(`unknown robot "${name}"; expected one of: ${robotNames.join(', ')}`);
  return robot;
}

/** Builds a robot's continuous dynamics from raw (unvalidated) params; throws zod errors. */
export function createAnalytic(robot: string, rawParams: unknown): ContinuousDynamics {
  const descriptor = robotDescriptor(robot);
  return continuousDynamics(descriptor, descriptor.params.parse(rawParams ?? {}));
}
