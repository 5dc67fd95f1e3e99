import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualTimeScheduler } from 'rxjs';
import { MqttRobotLink } from '../../sim/links/mqtt-robot-link.js';
import { SerialRobotLink } from '../../sim/links/serial-robot-link.js';
import type { CommandEnvelope } from '../../src/io/command-envelope.js';
import { resolveMqttLayout } from '../../src/io/mqtt/mqtt-layout.js';
import type { PresenceMessage } from '../../src/io/mqtt/payloads.js';
import { startBroker } from '../io/mqtt/broker.js';
import { quietLog, rawClient, STATE_NAMES, testConfig, waitUntil } from '../io/mqtt/fixtures.js';
import { FakePorts } from '../io/serial/fake-ports.js';

/**
 * The robot links' power cycle (the reboot fault): silent while off, then a new boot as the
 * wire formats define one. Serial (hardware/protocol.md): a new u32 session, seq from 0.
 * MQTT (hardware/mqtt-contract.md): an unclean disconnect, so the broker publishes the last
 * will `offline`, then a retained `online` with a new session.
 */

test('serial: off, nothing is written or delivered; on, a new session and seq from 0', async () => {
  const scheduler = new VirtualTimeScheduler();
  const ports = new FakePorts(scheduler);
  const link = await SerialRobotLink.open('/dev/robot', { framing: 'cobs', channels: [{ id: 1, name: 'pole' }], session: 41, ports, scheduler });
  const commands: CommandEnvelope[] = [];
  const sessions: number[] = [];
  link.commands$.subscribe((c) => commands.push(c));
  link.daemonSession$.subscribe((s) => sessions.push(s));
  const port = ports.last;
  const reading = (stamp: number) => link.publish({ channel: 'pole', stamp, values: [stamp] });
  reading(1);
  reading(1.01);
  port.receive({ type: 'command', session: 9, seq: 1, stamp: 5, ttl: 0.04, u: [0.5] });
  link.powerOff();
  reading(1.02);
  port.receive({ type: 'command', session: 9, seq: 2, stamp: 5.02, ttl: 0.04, u: [0.5] });
  assert.equal(port.sent().length, 2, 'a board without power writes nothing');
  assert.deepEqual(commands.map((c) => c.seq), [1], 'and hears nothing');
  await link.powerOn();
  reading(0);
  reading(0.01);
  port.receive({ type: 'command', session: 9, seq: 3, stamp: 5.04, ttl: 0.04, u: [0.5] });
  const frames = port.sent().map((m) => [m.session, m.seq, m.stamp]);
  assert.equal(link.session === 41, false);
  assert.deepEqual(frames, [
    [41, 0, 1],
    [41, 1, 1.01],
    [link.session, 0, 0],
    [link.session, 1, 0.01],
  ]);
  // The new boot knows no daemon session: the daemon's next frame announces it again (the robot resets its gate).
  assert.deepEqual(sessions, [9, 9]);
  assert.deepEqual(commands.map((c) => c.seq), [1, 3]);
  await link.close();
});

test('mqtt: off, the broker publishes the last will offline; on, a retained online with a new session, and commands flow again', { timeout: 30_000 }, async () => {
  const broker = await startBroker();
  const raw = await rawClient(broker.url);
  let link: MqttRobotLink | undefined;
  try {
    const cfg = testConfig(broker.url, 'json');
    const layout = resolveMqttLayout(cfg, STATE_NAMES);
    const presence: PresenceMessage[] = [];
    raw.on('message', (topic, payload) => {
      if (topic === layout.topics.robotStatus) presence.push(JSON.parse(payload.toString()) as PresenceMessage);
    });
    await raw.subscribeAsync(layout.topics.robotStatus, { qos: 1 });
    link = await MqttRobotLink.connect(broker.url, { layout, log: quietLog });
    const commands: CommandEnvelope[] = [];
    link.commands$.subscribe((c) => commands.push(c));
    const first = link.session;
    await waitUntil(() => presence.some((p) => p.status === 'online' && p.session === first), 'the first online');
    link.powerOff();
    await waitUntil(() => presence.some((p) => p.status === 'offline'), 'the last will');
    assert.deepEqual(presence.at(-1), { status: 'offline', session: first });
    // QoS 1: resolved once the broker has it, so it was routed while the robot was off.
    await raw.publishAsync(layout.topics.command, JSON.stringify({ seq: 1, stamp: 1, ttl: 0.04, u: [0.5] }), { qos: 1 });
    await link.powerOn();
    const second = link.session;
    assert.notEqual(second, first);
    await waitUntil(() => presence.some((p) => p.status === 'online' && p.session === second), 'the new boot online');
    await raw.publishAsync(layout.topics.command, JSON.stringify({ seq: 2, stamp: 1.02, ttl: 0.04, u: [0.5] }));
    await waitUntil(() => commands.length > 0, 'a command after the boot');
    assert.deepEqual(commands.map((c) => c.seq), [2], 'nothing heard while off');
    // A daemon started now sees the new boot: the retained presence is its online.
    const late = await rawClient(broker.url);
    const retained: PresenceMessage[] = [];
    late.on('message', (_t, payload) => retained.push(JSON.parse(payload.toString()) as PresenceMessage));
    await late.subscribeAsync(layout.topics.robotStatus, { qos: 1 });
    await waitUntil(() => retained.length > 0, 'the retained presence');
    assert.deepEqual(retained[0], { status: 'online', session: second });
    await late.endAsync();
  } finally {
    await link?.close();
    await raw.endAsync();
    await broker.stop();
  }
});
