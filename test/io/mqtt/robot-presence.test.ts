import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MqttRobotLink } from '../../../sim/links/mqtt-robot-link.js';
import { resolveMqttLayout } from '../../../src/io/mqtt/mqtt-layout.js';
import { MqttPlant } from '../../../src/io/mqtt/mqtt-plant.js';
import type { PlantEvent } from '../../../src/io/plant.js';
import { startBroker, type TestBroker } from './broker.js';
import { ACTION_NAMES, PERIOD, quietLog, rawClient, sleep, STATE_NAMES, testConfig, waitUntil } from './fixtures.js';

/**
 * The robot's presence across restarts, over a real broker: a robot that died leaves its last
 * will (retained `offline`), which a daemon started afterwards sees instead of the stale
 * retained `online`; a robot that boots again with a new session is a robot_restart.
 */
let broker: TestBroker;
before(async () => {
  broker = await startBroker();
});
after(async () => {
  await broker.stop();
});

describe('robot presence (real broker)', { timeout: 30_000 }, () => {
  it('a robot that died without a DISCONNECT: a daemon started after its keepalive ran out sees its last will, offline, not its old online', async () => {
    const cfg = testConfig(broker.url, 'json');
    const layout = resolveMqttLayout(cfg, STATE_NAMES);
    const robot = await MqttRobotLink.connect(broker.url, { layout, keepalive: 1, log: quietLog });
    robot.abort(); // power lost: the broker publishes the will after 1.5 x keepalive
    await sleep(2500);
    const plant = await MqttPlant.connect(cfg, { stateNames: STATE_NAMES, actionNames: ACTION_NAMES, controlPeriod: PERIOD, log: quietLog });
    const events: PlantEvent[] = [];
    plant.events$.subscribe((e) => events.push(e));
    try {
      await waitUntil(() => events.some((e) => e.kind === 'link_down'), 'the retained presence');
      const presence = events.filter((e) => (e.kind === 'link_up' || e.kind === 'link_down') && e.detail.startsWith('robot'));
      assert.deepEqual(presence.map((e) => e.kind), ['link_down']);
      assert.match((presence[0] as { detail: string }).detail, /robot offline/);
    } finally {
      await plant.close();
    }
  });

  it('a robot that boots again publishes a new session: one robot_restart, and the same session again (a reconnect) is none', async () => {
    const cfg = testConfig(broker.url, 'json');
    const layout = resolveMqttLayout(cfg, STATE_NAMES);
    const plant = await MqttPlant.connect(cfg, { stateNames: STATE_NAMES, actionNames: ACTION_NAMES, controlPeriod: PERIOD, log: quietLog });
    const events: PlantEvent[] = [];
    plant.events$.subscribe((e) => events.push(e));
    try {
      const first = await MqttRobotLink.connect(broker.url, { layout, log: quietLog });
      await waitUntil(() => events.some((e) => e.kind === 'link_up' && e.detail.includes(first.session)), 'the first boot');
      first.abort();
      const second = await MqttRobotLink.connect(broker.url, { layout, log: quietLog });
      await waitUntil(() => events.some((e) => e.kind === 'link_up' && e.detail.includes(second.session)), 'the second boot');
      assert.deepEqual(
        events.filter((e) => e.kind === 'robot_restart').map((e) => (e as { detail: string }).detail),
        [`new session ${second.session}, was ${first.session}`],
      );
      // The same session online again (its connection came back after a broker restart): not a restart.
      const raw = await rawClient(broker.url);
      const ups = events.filter((e) => e.kind === 'link_up').length;
      await raw.publishAsync(layout.topics.robotStatus, JSON.stringify({ status: 'online', session: second.session }), { qos: 1 });
      await waitUntil(() => events.filter((e) => e.kind === 'link_up').length > ups, 'the repeated presence');
      await raw.endAsync();
      assert.equal(events.filter((e) => e.kind === 'robot_restart').length, 1);
      await second.close();
    } finally {
      await plant.close();
    }
  });
});
