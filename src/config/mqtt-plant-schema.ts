import { z } from 'zod';
import { stampLimitsFields } from './stamp-limits-schema.js';

/**
 * `plant.kind: mqtt` — the robot is reached through an MQTT broker (hardware/mqtt-contract.md).
 * Topic names left out are derived from `topic_prefix` (see resolveMqttLayout in
 * src/io/mqtt/mqtt-layout.ts), so the smallest config is a prefix and the channels.
 */

const topic = z
  .string()
  .min(1)
  .refine((t) => !/[#+\u0000]/.test(t), { message: 'a topic to publish or subscribe to may not contain wildcards (#, +) or NUL' });

/** Where a channel's values sit in its messages: state name -> dotted field path ("pose.theta", "q.0"). */
const mqttChannelSchema = z
  .object({
    name: z.string().min(1),
    topic: topic.optional().describe('default <topic_prefix>/state/<name>'),
    codec: z.enum(['json', 'cbor']).optional().describe("default: the plant's codec"),
    stamp: z.string().min(1).default('stamp').describe("field path of the robot's monotonic time of the reading, s"),
    fields: z
      .record(z.string(), z.string().min(1))
      .refine((f) => Object.keys(f).length > 0, { message: 'map at least one state name to a payload field' })
      .describe('state name -> field path, in the order the values are read'),
  })
  .strict();

const seconds = z.number().positive().max(3600);

export const mqttPlantSchema = z
  .object({
    kind: z.literal('mqtt'),
    url: z.string().min(1).default('mqtt://127.0.0.1:1883').describe('mqtt://, mqtts://, ws:// or wss://; --mqtt URL overrides'),
    client_id: z.string().min(1).max(128).default('mpcd').describe('one daemon per client id: the broker drops an older client with the same id'),
    topic_prefix: z
      .string()
      .min(1)
      .default('mpcd')
      .refine((t) => !/[#+\u0000]/.test(t) && !t.endsWith('/'), { message: 'no wildcards, NUL or trailing "/"' }),
    topics: z
      .object({
        command: topic.optional().describe('default <prefix>/command'),
        arm: topic.optional().describe('default <prefix>/arm'),
        heartbeat: topic.optional().describe('default <prefix>/heartbeat'),
        estop: topic.optional().describe('default <prefix>/estop'),
        daemon_status: topic.optional().describe('default <prefix>/status/daemon'),
        robot_status: topic.optional().describe('default <prefix>/status/robot'),
        goal: topic.optional().describe("default <prefix>/goal: goals from the robot's software"),
        goal_status: topic.optional().describe('default <prefix>/status/goal: the answer to the last goal, retained'),
        control_status: topic.optional().describe('default <prefix>/status/control: what the daemon is doing, at status.rate'),
      })
      .strict()
      .default({}),
    channels: z.array(mqttChannelSchema).min(1),
    codec: z.enum(['json', 'cbor']).default('json'),
    ...stampLimitsFields,
    command_ttl: seconds.optional().describe('s a command may still be applied after its stamp; default 2 control periods'),
    keepalive: z.number().int().min(1).max(3600).default(5).describe('s; the broker fires the last will after 1.5x this with no traffic'),
    connect_timeout: seconds.default(10).describe('s to wait for the first connection at start-up'),
    reconnect: z
      .object({ min: seconds.default(0.2), max: seconds.default(5) })
      .strict()
      .refine((r) => r.min <= r.max, { message: 'expected min <= max' })
      .default({ min: 0.2, max: 5 })
      .describe('exponential backoff between reconnect attempts, s'),
    tls: z
      .object({
        ca: z.string().min(1).optional().describe('PEM file, relative to the working directory'),
        cert: z.string().min(1).optional().describe('client certificate PEM file'),
        key: z.string().min(1).optional().describe('client key PEM file'),
        reject_unauthorized: z.boolean().default(true),
      })
      .strict()
      .refine((t) => (t.cert === undefined) === (t.key === undefined), { message: 'give both cert and key, or neither' })
      .optional(),
    username: z.string().min(1).optional(),
    password_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'the name of an environment variable' })
      .optional()
      .describe('environment variable holding the password, so it is not in the YAML'),
  })
  .strict();

export type MqttPlantConfig = z.infer<typeof mqttPlantSchema>;
export type MqttChannelConfig = z.infer<typeof mqttChannelSchema>;
