import { z } from 'zod';

/**
 * `virtual_robot:` — the MuJoCo model the virtual robot (`mpcd sim-robot`) runs behind the
 * config's MQTT or serial plant, so that one config file describes both ends of a HIL rig.
 * The state and action names are the model's, in the model's order; the virtual robot splits
 * the state into the transport's channels as `plant.channels` says.
 */

const mujocoStateSource = z.union([
  z.object({ name: z.string(), joint: z.string(), field: z.enum(['qpos', 'qvel']) }).strict(),
  z.object({ name: z.string(), sensor: z.string() }).strict(),
]);

export const virtualRobotSchema = z
  .object({
    mjcf: z.string().min(1).describe('MJCF file, relative to the config file'),
    state: z.array(mujocoStateSource).min(1).describe("the model's states, in order: where MuJoCo has each"),
    actions: z.array(z.object({ name: z.string(), actuator: z.string() }).strict()).min(1),
    period: z
      .number()
      .positive()
      .max(10)
      .optional()
      .describe("s per physics step and reading; an integer multiple of the MJCF timestep. Default half the control period: a robot publishes faster than it is controlled, so the daemon's state is at most half a period old"),
    link_timeout: z
      .number()
      .positive()
      .max(60)
      .default(0.25)
      .describe('s without any frame from the daemon after which the robot disarms itself (hardware/protocol.md)'),
    seed: z.number().int().min(0).optional().describe('initial states and fault injection; default the config seed'),
  })
  .strict();

export type VirtualRobotConfig = z.infer<typeof virtualRobotSchema>;
