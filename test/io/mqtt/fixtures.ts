import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { filter, firstValueFrom, timeout, type Observable } from 'rxjs';
import { mqttPlantSchema, type MqttPlantConfig } from '../../../src/config/mqtt-plant-schema.js';
import { resolveMqttLayout } from '../../../src/io/mqtt/mqtt-layout.js';
import { MqttPlant } from '../../../src/io/mqtt/mqtt-plant.js';
import type { PlantEvent } from '../../../src/io/plant.js';
import { MqttRobotLink } from '../../../sim/links/mqtt-robot-link.js';

/** A cart-pole read over two channels, the pole's fields nested, so field paths are exercised. */
export const STATE_NAMES = ['x', 'theta', 'x_dot', 'theta_dot'] as const;
export const ACTION_NAMES = ['force'] as const;
export const PERIOD = 0.02;

export const quietLog = pino({ level: process.env['MPCD_LOG_LEVEL'] ?? 'silent' });

let prefixCounter = 0;

/** A config with its own topic prefix, so tests sharing a broker never see each other's retained messages. */
export function testConfig(url: string, codec: 'json' | 'cbor', overrides: Partial<Record<string, unknown>> = {}): MqttPlantConfig {
  prefixCounter += 1;
  return mqttPlantSchema.parse({
    kind: 'mqtt',
    url,
    client_id: `mpcd-test-${process.pid}-${prefixCounter}`,
    topic_prefix: `test/${process.pid}/${prefixCounter}`,
    codec,
    reconnect: { min: 0.05, max: 0.2 },
    connect_timeout: 5,
    channels: [
      { name: 'cart', fields: { x: 'pos', x_dot: 'vel' } },
      { name: 'pole', stamp: 't', fields: { theta: 'angle.q', theta_dot: 'angle.qd' } },
    ],
    ...overrides,
  });
}

export interface Rig {
  readonly cfg: MqttPlantConfig;
  readonly plant: MqttPlant;
  readonly robot: MqttRobotLink;
  readonly events: PlantEvent[];
  close(): Promise<void>;
}

export async function connectRig(url: string, codec: 'json' | 'cbor', overrides: Partial<Record<string, unknown>> = {}): Promise<Rig> {
  const cfg = testConfig(url, codec, overrides);
  const plant = await MqttPlant.connect(cfg, { stateNames: STATE_NAMES, actionNames: ACTION_NAMES, controlPeriod: PERIOD, log: quietLog });
  const events: PlantEvent[] = [];
  plant.events$.subscribe((e) => events.push(e));
  const robot = await MqttRobotLink.connect(url, { layout: resolveMqttLayout(cfg, STATE_NAMES), reconnect: { min: 0.05, max: 0.2 }, log: quietLog });
  // Both sides subscribe on connect; a round trip through the broker proves both subscriptions are active.
  await waitUntil(() => events.some((e) => e.kind === 'link_up' && e.detail.startsWith('robot online')), 'robot presence at the daemon');
  return {
    cfg,
    plant,
    robot,
    events,
    close: async () => {
      await robot.close();
      await plant.close();
    },
  };
}

/** A bare client for looking at the wire and injecting bad messages. */
export async function rawClient(url: string): Promise<MqttClient> {
  return connectAsync(url, { clean: true, reconnectPeriod: 0, clientId: `raw-${process.pid}-${(prefixCounter += 1)}` });
}

/** Polls `predicate` until it holds; fails the test (naming `what`) if it does not within `ms`. An upper bound, not a timing assertion. */
export async function waitUntil(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function nextMatching<T>(source: Observable<T>, predicate: (v: T) => boolean, what: string, ms = 5000): Promise<T> {
  return firstValueFrom(source.pipe(filter(predicate), timeout({ first: ms, with: () => { throw new Error(`timed out waiting for ${what}`); } })));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
