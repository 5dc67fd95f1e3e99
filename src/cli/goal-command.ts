import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { loadConfig } from '../config/load-config.js';
import { MpcdError } from '../core/errors.js';
import { codecFor } from '../io/codecs/codecs.js';
import type { GoalMessage, GoalReport } from '../io/goal-message.js';
import { loadMqttCredentials } from '../io/mqtt/mqtt-auth.js';
import { resolveMqttLayout } from '../io/mqtt/mqtt-layout.js';
import { LiveParamValues } from '../costs/task-params.js';
import { continuousModel } from '../models/continuous-model.js';

export interface GoalArgs {
  config: string;
  /** name=value pairs */
  assignments: readonly string[];
  mqttUrl: string | undefined;
  ttl: number;
  replan: boolean;
  sender: string;
  /** s to wait for the daemon's answer */
  wait: number;
  json: boolean;
}

/**
 * `mpcd goal <config> name=value ...`: sends one goal to a running daemon over the config's MQTT
 * broker and prints the daemon's answer (accepted, or rejected and why). Values are checked
 * against the config's live params here too, so a typo fails before anything is sent. The seq
 * is the wall clock in ms, so goals from successive invocations are newer than the last.
 */
export async function goalCommand(args: GoalArgs): Promise<number> {
  const loaded = await loadConfig(args.config);
  const c = loaded.config;
  if (c.plant.kind !== 'mqtt') throw new MpcdError('GOAL_TRANSPORT', `${loaded.path}: plant.kind is ${c.plant.kind}; mpcd goal sends over MQTT (plant.kind: mqtt)`);
  const live = new LiveParamValues(c.task);
  const params: Record<string, number> = {};
  for (const a of args.assignments) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(a);
    if (m === null) throw new MpcdError('GOAL_ARGS', `expected name=value, found "${a}"`);
    const value = Number(m[2]);
    const why = live.refuse(m[1]!, value);
    if (why !== undefined) throw new MpcdError('GOAL_ARGS', why);
    params[m[1]!] = value;
  }
  if (Object.keys(params).length === 0) throw new MpcdError('GOAL_ARGS', `name at least one live param as name=value (live: ${live.names.join(', ') || 'none'})`);
  const dyn = continuousModel(c.model);
  const layout = resolveMqttLayout(c.plant, dyn.stateNames);
  const codec = codecFor(layout.codec);
  const url = args.mqttUrl ?? c.plant.url;
  const credentials = loadMqttCredentials(c.plant, url);
  const client = await mqtt
    .connectAsync(url, {
      clientId: `mpcd-goal-${randomUUID().slice(0, 8)}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: Math.round(c.plant.connect_timeout * 1000),
      ...(credentials.username !== undefined ? { username: credentials.username } : {}),
      ...(credentials.password !== undefined ? { password: credentials.password } : {}),
      ...(credentials.tls ?? {}),
    })
    .catch((err: unknown) => {
      throw new MpcdError('MQTT_CONNECT', `cannot reach the broker at ${url}: ${err instanceof Error ? err.message : String(err)}`);
    });
  try {
    // Stamped on the wall clock: one invocation after another, the daemon judges them as one sender with one clock.
    const goal: GoalMessage = { sender: args.sender, seq: Date.now(), stamp: performance.timeOrigin / 1000 + performance.now() / 1000, ttl: args.ttl, params, replan: args.replan };
    let settle: (r: GoalReport | undefined) => void = () => {};
    const answer = new Promise<GoalReport | undefined>((resolve) => (settle = resolve));
    client.on('message', (_topic, payload, packet) => {
      if (packet.retain) return; // the answer to an earlier goal
      const decoded = codec.decode(payload);
      const r = decoded.ok ? (decoded.value as GoalReport) : undefined;
      if (r !== undefined && r.sender === goal.sender && r.seq === goal.seq) settle(r);
    });
    await client.subscribeAsync(layout.topics.goalStatus, { qos: 1 });
    await client.publishAsync(layout.topics.goal, Buffer.from(codec.encode(goal)), { qos: 1, retain: false });
    // --wait counts from the send, not from the connection's set-up.
    const timer = setTimeout(() => settle(undefined), args.wait * 1000);
    const report = await answer;
    clearTimeout(timer);
    if (args.json) process.stdout.write(`${JSON.stringify({ goal, report: report ?? null })}\n`);
    else if (report === undefined) process.stdout.write(`sent goal seq ${goal.seq} to ${layout.topics.goal}; no answer within ${args.wait} s (is the daemon running on ${url}?)\n`);
    else process.stdout.write(`goal seq ${goal.seq}: ${report.verdict}${report.reason !== undefined ? ` (${report.reason})` : ''}; the planner now uses ${JSON.stringify(report.params)}\n`);
    return report?.verdict === 'accepted' ? 0 : 1;
  } finally {
    await client.endAsync();
  }
}
