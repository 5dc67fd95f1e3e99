import type { MqttPlantConfig } from '../../config/mqtt-plant-schema.js';
import { MpcdError } from '../../core/errors.js';
import type { CodecName } from '../codecs/codecs.js';
import { parseFieldPath, type FieldPath } from './field-path.js';

/** Every topic of one robot; both sides (daemon and robot link) derive it from the same config. */
export interface MqttTopics {
  readonly command: string;
  readonly arm: string;
  readonly heartbeat: string;
  readonly estop: string;
  readonly daemonStatus: string;
  readonly robotStatus: string;
  /** The robot's software -> daemon: goals (src/io/goal-message.ts). */
  readonly goal: string;
  /** daemon -> the robot's software: the answer to the last goal, retained. */
  readonly goalStatus: string;
  /** daemon -> the robot's software: what the daemon is doing (src/io/control-status.ts). */
  readonly controlStatus: string;
}

export interface MqttChannelLayout {
  readonly name: string;
  readonly topic: string;
  readonly codec: CodecName;
  readonly stamp: FieldPath;
  /** In slot order. */
  readonly fields: readonly FieldPath[];
  /** Indices into the state vector, one per field. */
  readonly slots: readonly number[];
}

export interface MqttLayout {
  readonly topics: MqttTopics;
  readonly channels: readonly MqttChannelLayout[];
  readonly codec: CodecName;
}

/**
 * Resolves default topic names and maps every channel field to its state slot. Throws
 * MpcdError 'MQTT_CONFIG' when a field names an unknown state, a state is read by no channel
 * (the state would never be complete), or two channels share a topic.
 */
export function resolveMqttLayout(cfg: MqttPlantConfig, stateNames: readonly string[]): MqttLayout {
  const p = cfg.topic_prefix;
  const t = cfg.topics;
  const topics: MqttTopics = {
    command: t.command ?? `${p}/command`,
    arm: t.arm ?? `${p}/arm`,
    heartbeat: t.heartbeat ?? `${p}/heartbeat`,
    estop: t.estop ?? `${p}/estop`,
    daemonStatus: t.daemon_status ?? `${p}/status/daemon`,
    robotStatus: t.robot_status ?? `${p}/status/robot`,
    goal: t.goal ?? `${p}/goal`,
    goalStatus: t.goal_status ?? `${p}/status/goal`,
    controlStatus: t.control_status ?? `${p}/status/control`,
  };
  const problems: string[] = [];
  const covered = new Set<string>();
  const seenTopics = new Map<string, string>();
  for (const [role, topic] of Object.entries(topics)) seenTopics.set(topic, `topics.${role}`);
  const channels = cfg.channels.map((c, i): MqttChannelLayout => {
    const topic = c.topic ?? `${p}/state/${c.name}`;
    const clash = seenTopics.get(topic);
    if (clash !== undefined) problems.push(`channels[${i}] (${c.name}): topic '${topic}' is also used by ${clash}`);
    seenTopics.set(topic, `channels[${i}]`);
    const fields: FieldPath[] = [];
    const slots: number[] = [];
    for (const [state, path] of Object.entries(c.fields)) {
      const slot = stateNames.indexOf(state);
      if (slot < 0) {
        problems.push(`channels[${i}] (${c.name}): '${state}' is not a state of the model (${stateNames.join(', ')})`);
        continue;
      }
      if (covered.has(state)) problems.push(`channels[${i}] (${c.name}): '${state}' is already read by another channel`);
      covered.add(state);
      fields.push(parseFieldPath(path));
      slots.push(slot);
    }
    return { name: c.name, topic, codec: c.codec ?? cfg.codec, stamp: parseFieldPath(c.stamp), fields, slots };
  });
  const missing = stateNames.filter((s) => !covered.has(s));
  if (missing.length > 0) problems.push(`no channel reads ${missing.join(', ')}; map each state to a payload field in plant.channels[].fields`);
  if (problems.length > 0) throw new MpcdError('MQTT_CONFIG', 'the MQTT plant config does not fit the model', problems);
  return { topics, channels, codec: cfg.codec };
}
