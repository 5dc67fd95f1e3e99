import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { mqttPlantSchema } from '../../../src/config/mqtt-plant-schema.js';
import { MpcdError } from '../../../src/core/errors.js';
import { resolveMqttLayout } from '../../../src/io/mqtt/mqtt-layout.js';

const channels = [
  { name: 'cart', fields: { x: 'pos', x_dot: 'vel' } },
  { name: 'pole', stamp: 't', fields: { theta: 'angle.q', theta_dot: 'angle.qd' } },
];
const states = ['x', 'theta', 'x_dot', 'theta_dot'];

describe('mqttPlantSchema', () => {
  it('fills defaults and derives every topic from the prefix', () => {
    const cfg = mqttPlantSchema.parse({ kind: 'mqtt', channels });
    assert.equal(cfg.url, 'mqtt://127.0.0.1:1883');
    assert.equal(cfg.codec, 'json');
    assert.equal(cfg.command_ttl, undefined);
    assert.deepEqual(cfg.reconnect, { min: 0.2, max: 5 });
    const layout = resolveMqttLayout(cfg, states);
    assert.deepEqual(layout.topics, {
      command: 'mpcd/command',
      arm: 'mpcd/arm',
      heartbeat: 'mpcd/heartbeat',
      estop: 'mpcd/estop',
      daemonStatus: 'mpcd/status/daemon',
      robotStatus: 'mpcd/status/robot',
      goal: 'mpcd/goal',
      goalStatus: 'mpcd/status/goal',
      controlStatus: 'mpcd/status/control',
    });
    assert.deepEqual(
      layout.channels.map((c) => [c.topic, c.codec, c.stamp, c.fields, c.slots]),
      [
        ['mpcd/state/cart', 'json', ['stamp'], [['pos'], ['vel']], [0, 2]],
        ['mpcd/state/pole', 'json', ['t'], [['angle', 'q'], ['angle', 'qd']], [1, 3]],
      ],
    );
  });

  it('parses the example in hardware/mqtt-contract.md', () => {
    const yaml = `
kind: mqtt
url: mqtts://broker.lab:8883
client_id: mpcd-cartpole
topic_prefix: lab/cartpole
codec: cbor
keepalive: 5
reconnect: { min: 0.2, max: 5 }
command_ttl: 0.04
username: mpcd
password_env: MPCD_MQTT_PASSWORD
tls: { ca: /etc/mpcd/ca.pem, cert: /etc/mpcd/client.pem, key: /etc/mpcd/client.key, reject_unauthorized: true }
channels:
  - { name: cart, fields: { x: pos, x_dot: vel } }
  - { name: pole, stamp: t, fields: { theta: angle.q, theta_dot: angle.qd } }
`;
    const cfg = mqttPlantSchema.parse(parse(yaml));
    assert.equal(resolveMqttLayout(cfg, states).topics.command, 'lab/cartpole/command');
  });

  it('refuses misspelt keys, wildcards, half a client certificate and reversed backoff', () => {
    const bad = [
      { kind: 'mqtt', channels, keep_alive: 5 },
      { kind: 'mqtt', channels, topic_prefix: 'robots/+' },
      { kind: 'mqtt', channels, tls: { cert: 'c.pem' } },
      { kind: 'mqtt', channels, reconnect: { min: 2, max: 1 } },
      { kind: 'mqtt', channels: [{ name: 'cart', fields: {} }] },
    ];
    for (const input of bad) assert.equal(mqttPlantSchema.safeParse(input).success, false, JSON.stringify(input));
  });

  it('refuses a layout where two channels share a topic or a state is read twice', () => {
    const cfg = mqttPlantSchema.parse({
      kind: 'mqtt',
      channels: [
        { name: 'a', topic: 'r/s', fields: { x: 'x', theta: 'th' } },
        { name: 'b', topic: 'r/s', fields: { x: 'x', x_dot: 'v', theta_dot: 'w' } },
      ],
    });
    assert.throws(
      () => resolveMqttLayout(cfg, states),
      (err: unknown) => err instanceof MpcdError && /topic 'r\/s' is also used/.test(err.message) && /'x' is already read/.test(err.message),
    );
  });
});
