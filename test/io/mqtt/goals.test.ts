import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { LiveParamValues } from '../../../src/costs/task-params.js';
import type { GoalReport } from '../../../src/io/goal-message.js';
import { resolveMqttLayout } from '../../../src/io/mqtt/mqtt-layout.js';
import { MqttPlant } from '../../../src/io/mqtt/mqtt-plant.js';
import { GoalInbox } from '../../../src/loop/goal-inbox.js';
import { startBroker, type TestBroker } from './broker.js';
import { ACTION_NAMES, PERIOD, quietLog, rawClient, STATE_NAMES, testConfig, waitUntil } from './fixtures.js';

/** Goals over a real broker: the goal topic in, the retained answer on the goal status topic out. */
let broker: TestBroker;
before(async () => {
  broker = await startBroker();
});
after(async () => {
  await broker.stop();
});

describe('goals over MQTT (real broker)', { timeout: 30_000 }, () => {
  it('a goal published on <prefix>/goal sets the live params, a garbled one is counted and answered, and the answer is retained', async () => {
    const cfg = testConfig(broker.url, 'json');
    const layout = resolveMqttLayout(cfg, STATE_NAMES);
    const plant = await MqttPlant.connect(cfg, { stateNames: STATE_NAMES, actionNames: ACTION_NAMES, controlPeriod: PERIOD, log: quietLog });
    const live = new LiveParamValues({ params: { x_goal: { default: 0, bounds: [-0.5, 0.5], live: true } } });
    const inbox = new GoalInbox(plant, live, () => {}, pino({ level: 'silent' }));
    const raw = await rawClient(broker.url);
    const answers: GoalReport[] = [];
    raw.on('message', (topic, payload) => {
      if (topic === layout.topics.goalStatus) answers.push(JSON.parse(payload.toString()) as GoalReport);
    });
    try {
      assert.equal(layout.topics.goal, `${cfg.topic_prefix}/goal`);
      await raw.subscribeAsync(layout.topics.goalStatus, { qos: 1 });
      await waitUntil(() => plant.connected, 'the daemon side');
      await raw.publishAsync(layout.topics.goal, JSON.stringify({ sender: 'test', seq: 1, stamp: 10, ttl: 2, params: { x_goal: 0.25 } }), { qos: 1 });
      await waitUntil(() => answers.length >= 1, 'the answer to the goal');
      assert.equal(live.get('x_goal'), 0.25);
      assert.equal(answers[0]!.verdict, 'accepted');
      await raw.publishAsync(layout.topics.goal, '{"seq": 2, "stamp": 10.1, "ttl": 2, "params": {"x_goal": 0.', { qos: 1 });
      await waitUntil(() => answers.length >= 2, 'the answer to the garbled goal');
      assert.equal(answers[1]!.verdict, 'malformed');
      assert.equal(plant.dropped.byReason.decode, 1, 'the plant counts it with the other malformed messages');
      assert.equal(live.get('x_goal'), 0.25);
      // A client that subscribes later gets the last answer at once.
      const late = await rawClient(broker.url);
      const retained: GoalReport[] = [];
      late.on('message', (_t, payload) => retained.push(JSON.parse(payload.toString()) as GoalReport));
      await late.subscribeAsync(layout.topics.goalStatus, { qos: 1 });
      await waitUntil(() => retained.length >= 1, 'the retained answer');
      assert.deepEqual(retained[0]!.params, { x_goal: 0.25 });
      await late.endAsync();
    } finally {
      inbox.close();
      await raw.endAsync();
      await plant.close();
    }
  });
});
