import type { z } from 'zod';
import type { ContinuousDynamics } from '../dynamics.js';
import { cartpole, cartpoleParams } from './cartpole.js';
import { pendulum, pendulumParams } from './pendulum.js';

/**
 * Every analytic robot mpcd knows, by the name used as `model.robot` in config.
 * To add a robot: write its file beside this one (params schema + ContinuousDynamics) and add
 * it here.
 */
export const analyticRobots = {
  cartpole: { params: cartpoleParams, create: cartpole },
  pendulum: { params: pendulumParams, create: pendulum },
} as const satisfies Record<string, { params: z.ZodType; create: (p: never) => ContinuousDynamics }>;

export type RobotName = keyof typeof analyticRobots;
export const robotNames = Object.keys(analyticRobots) as RobotName[];

/** Builds a robot's continuous dynamics from raw (unvalidated) params; throws zod errors. */
export function createAnalytic(robot: RobotName, rawParams: unknown): ContinuousDynamics {
  const entry = analyticRobots[robot];
  const params = entry.params.parse(rawParams ?? {});
  return (entry.create as (p: unknown) => ContinuousDynamics)(params);
}
