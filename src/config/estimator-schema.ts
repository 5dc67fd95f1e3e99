import { z } from 'zod';

/**
 * What the daemon estimates beside the state it is given. `input_disturbance` is offset-free MPC's
 * disturbance model: a constant offset on each action that makes the planning model match the
 * plant (a weaker motor, a heavier link, gravity the model gets wrong), learned online in a few
 * periods and taken off the action sent, so that a reaching task settles on its target instead of
 * beside it. The learned residual (model.residual) learns such errors too, but only after refits.
 */
export const estimatorSchema = z
  .object({
    input_disturbance: z
      .object({
        gain: z
          .number()
          .gt(0)
          .max(1)
          .default(0.1)
          .describe('fraction of each period\'s least-squares estimate taken into the offset: 0.1 settles in about 20 periods'),
        limit: z
          .record(z.string(), z.number().min(0))
          .describe('per action name: the largest offset, in action units (an action not named is not offset)'),
      })
      .strict()
      .optional(),
  })
  .strict();

export type EstimatorConfig = z.infer<typeof estimatorSchema>;
