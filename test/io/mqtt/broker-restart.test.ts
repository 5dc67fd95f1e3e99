import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CommandGate, type CommandEnvelope, type CommandVerdict } from '../../../src/io/command-envelope.js';
import type { Observation } from '../../../src/io/plant.js';
import { mosquittoBinary, startBroker, type TestBroker } from './broker.js';
import { connectRig, sleep, waitUntil } from './fixtures.js';

// A broker per test: a test that fails while its broker is down must not take the next one with it.
let broker: TestBroker;
beforeEach(async () => {
  broker = await startBroker();
});
afterEach(async () => {
  await broker.stop();
});

describe('MQTT link across a broker failure', { timeout: 30_000 }, () => {
  it('reports link_down then link_up, never replays commands sent while down, and readings resume', async () => {
    const rig = await connectRig(broker.url, 'json');
    try {
      const received: CommandEnvelope[] = [];
      rig.robot.commands$.subscribe((c) => received.push(c));
      const robotLinkEvents: string[] = [];
      rig.robot.events$.subscribe((e) => robotLinkEvents.push(e.kind));
      const seen: Observation[] = [];
      rig.plant.observations$.subscribe((o) => seen.push(o));

      rig.plant.send(Float32Array.of(1));
      await waitUntil(() => received.length === 1, 'a command before the failure');

      const eventsBefore = rig.events.length;
      await broker.kill();
      await waitUntil(() => !rig.plant.connected && !rig.robot.connected, 'both clients to notice the broker is gone');
      const whileDown: number[] = [];
      for (let i = 0; i < 10; i++) {
        whileDown.push(rig.plant.nextCommandSeq);
        rig.plant.send(Float32Array.of(-99));
        rig.plant.heartbeat();
        rig.robot.publish({ channel: 'cart', stamp: 50 + i, values: [-99, -99] });
        await sleep(5);
      }
      assert.equal(rig.plant.counters.commandsDroppedOffline, 10);
      assert.equal(rig.plant.counters.heartbeatsDroppedOffline, 10);
      assert.equal(rig.robot.counters.readingsDropped, 10);

      await broker.start();
      await waitUntil(() => rig.plant.connected && rig.robot.connected, 'both clients to reconnect');
      const linkEvents = rig.events.slice(eventsBefore).filter((e) => (e.kind === 'link_up' || e.kind === 'link_down') && !e.detail.startsWith('robot'));
      assert.deepEqual(linkEvents.map((e) => e.kind), ['link_down', 'link_up']);
      assert.deepEqual(robotLinkEvents, ['link_down', 'link_up']);
      assert.ok(rig.plant.reconnectAttempts >= 1);

      // Commands flow again (the robot's subscription may land a moment after the daemon's reconnect).
      await waitUntil(
        () => {
          rig.plant.send(Float32Array.of(2));
          return received.length > 1;
        },
        'a command after the reconnect',
      );
      await waitUntil(
        () => {
          rig.robot.publish({ channel: 'cart', stamp: 100, values: [0.5, 0] });
          return seen.length > 0;
        },
        'a reading after the reconnect',
      );
      await sleep(200); // room for anything that might still be replayed
      const seqs = received.map((c) => c.seq);
      assert.deepEqual(
        seqs.filter((s) => whileDown.includes(s)),
        [],
        'no command sent while the broker was down reaches the robot',
      );
      assert.ok(received.every((c) => c.u[0] !== -99));
      assert.ok(seen.every((o) => o.values[0] === 0.5), 'no reading from the outage is replayed');
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, 'seq increases');
    } finally {
      await rig.close();
    }
  });

  // Needs a broker process to SIGSTOP. (A skip decided inside the test would skip afterEach too, in Node 20.)
  const frozenSkip = mosquittoBinary() === undefined ? 'needs mosquitto (SIGSTOP); aedes runs in-process' : false;
  it('a frozen broker delivers late commands, and the robot gate refuses every one as stale', { skip: frozenSkip }, async () => {
    assert.ok(broker.pause !== undefined && broker.resume !== undefined);
    const rig = await connectRig(broker.url, 'cbor');
    try {
      const gate = new CommandGate();
      const verdicts: { seq: number; verdict: CommandVerdict }[] = [];
      // The robot stamps receipt with its own monotonic clock; here it is this process's.
      rig.robot.commands$.subscribe((c) => verdicts.push({ seq: c.seq, verdict: gate.check(c, performance.now() / 1000) }));
      for (let i = 0; i < 5; i++) {
        rig.plant.send(Float32Array.of(i));
        await sleep(20);
      }
      await waitUntil(() => verdicts.length === 5, 'five fresh commands');
      assert.ok(verdicts.every((v) => v.verdict === 'apply'));

      broker.pause();
      const frozen: number[] = [];
      for (let i = 0; i < 5; i++) {
        frozen.push(rig.plant.nextCommandSeq);
        rig.plant.send(Float32Array.of(-99)); // the socket still looks open: these are published, and sit in the broker
        await sleep(20);
      }
      assert.equal(rig.plant.counters.commandsDroppedOffline, 0);
      await sleep(300); // far older than the ttl (2 periods = 40 ms) by the time they arrive
      broker.resume();
      await waitUntil(() => verdicts.length === 10, 'the late commands');
      assert.deepEqual(
        verdicts.slice(5).map((v) => [v.seq, v.verdict]),
        frozen.map((seq) => [seq, 'stale']),
      );
      // And fresh commands apply again.
      rig.plant.send(Float32Array.of(7));
      await waitUntil(() => verdicts.length === 11, 'a fresh command');
      assert.equal(verdicts[10]?.verdict, 'apply');
    } finally {
      await rig.close();
    }
  });

  it('closes promptly while the broker is down', async () => {
    const rig = await connectRig(broker.url, 'json');
    await broker.kill();
    await waitUntil(() => !rig.plant.connected && !rig.robot.connected, 'both clients to notice the broker is gone');
    await rig.close(); // must not wait for a reconnect
    assert.equal(rig.plant.connected, false);
  });
});
