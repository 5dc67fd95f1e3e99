import { z } from 'zod';
import { robots } from '../models/analytic/registry.js';
import type { AnyRobotDescriptor } from '../models/analytic/robot-descriptor.js';
import { DEFAULT_FRICTION_VELOCITY } from '../models/rigid-body/articulated-body.js';
import type { KinematicTree } from '../models/rigid-body/kinematic-tree.js';
import { residualSchema } from './learning-schema.js';

/**
 * `model`: the planner's nominal model, by `kind`:
 *   analytic (the default)  a hand-written robot of src/models/analytic/, picked by `robot`
 *   rigid_body              any kinematic tree, read from the robot's MJCF or URDF file
 */

const integrator = z.enum(['rk4', 'semi_implicit_euler']);

const modelCommon = {
  integrator: integrator.default('rk4'),
  substeps: z.number().int().min(1).max(100).default(2),
  residual: residualSchema.optional(),
};

/** One robot's `model`: its name as the discriminator, its own params schema. */
function robotModel<R extends AnyRobotDescriptor>(robot: R) {
  const params = robot.params as R['params'];
  return z
    .object({
      kind: z.literal('analytic'),
      robot: z.literal(robot.name as R['name']),
      params: params.default(params.parse({}) as z.util.NoUndefined<z.output<R['params']>>),
      ...modelCommon,
    })
    .strict();
}
type RobotModels<T extends readonly AnyRobotDescriptor[]> = { -readonly [I in keyof T]: ReturnType<typeof robotModel<T[I]>> };

/** `model` of kind analytic: a discriminated union on `robot` over every registered robot (registry.ts). */
export const analyticModelSchema = z.discriminatedUnion('robot', robots.map(robotModel) as unknown as RobotModels<typeof robots>);

export const rigidBodyModelSchema = z
  .object({
    kind: z.literal('rigid_body'),
    mjcf: z.string().min(1).optional().describe('the robot\'s MJCF file, relative to the config file'),
    urdf: z.string().min(1).optional().describe('the robot\'s URDF file, relative to the config file'),
    motors: z
      .record(z.string(), z.number().positive())
      .default({})
      .describe('joint -> N m (or N) per unit action: a motor on each, action <joint>_motor in [-1, 1] (a URDF has no actuators)'),
    frictionloss_velocity: z
      .number()
      .positive()
      .default(DEFAULT_FRICTION_VELOCITY)
      .describe('dry friction is modelled as -frictionloss * tanh(q_dot / this), m/s or rad/s'),
    ...modelCommon,
  })
  .strict()
  .refine((m) => (m.mjcf === undefined) !== (m.urdf === undefined), {
    message: 'give the robot\'s file as exactly one of mjcf: <file> or urdf: <file>',
    path: ['mjcf'],
  });

/** A `model` without `kind` is an analytic robot, as configs written before `kind` existed say. */
export const modelSchema = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && !('kind' in v) ? { kind: 'analytic', ...v } : v),
  z.discriminatedUnion('kind', [analyticModelSchema, rigidBodyModelSchema]),
);

export type AnalyticModelConfig = z.infer<typeof analyticModelSchema>;
/** A rigid-body model once its file is read (load-config.ts attaches the tree). */
export type RigidBodyModelConfig = z.infer<typeof rigidBodyModelSchema> & { readonly tree: KinematicTree };
export type ModelConfig = AnalyticModelConfig | RigidBodyModelConfig;
