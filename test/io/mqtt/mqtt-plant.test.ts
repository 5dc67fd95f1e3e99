import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decode as cborDecode, Encoder } from 'cbor-x';
import type { CommandEnvelope } from '../../../src/io/command-envelope.js';
import { MqttPlant } from '../../../src/io/mqtt/mqtt-plant.js';
import type { ArmCommand, Observation } from '../../../src/io/plant.js';
import { MpcdError } from '../../../src/core/errors.js';
import { startBroker, type TestBroker } from './broker.js';
import { ACTION_NAMES, connectRig, nextMatching, PERIOD, quietLog, rawClient, STATE_NAMES, testConfig, waitUntil } from './fixtures.js';

const plainCbor = new Encoder({ useRecords: false });

let broker: TestBroker;
before(async () => {
  broker = await startBroker();
});
after(async () => {
  await broker.stop();
});

for (const codec of ['json', 'cbor'] as const) {
  describe(`MQTT plant and robot link (${codec})`, { timeout: 30_000 }, () => {
    it('maps readings from each channel onto their state slots', async () => {
      const rig = await connectRig(broker.url, codec);
      try {
        assert.deepEqual(rig.plant.channels, [
          { name: 'cart', slots: [0, 2] },
          { name: 'pole', slots: [1, 3] },
        ]);
        const seen: Observation[] = [];
        rig.plant.observations$.subscribe((o) => seen.push(o));
        rig.robot.publish({ channel: 'cart', stamp: 1.25, values: [0.5, -0.75] });
        rig.robot.publish({ channel: 'pole', stamp: 1.5, values: [3.0, 0.125] });
        await waitUntil(() => seen.length === 2, 'two observations');
        const byChannel = new Map(seen.map((o) => [o.channel, o]));
        // Stamps are handed on in the daemon's clock (src/io/stamp-policy.ts): the first reading of each channel at its arrival.
        const now = performance.now() / 1000;
        for (const o of seen) assert.ok(o.stamp <= now && o.stamp > now - 5, `${o.channel}: stamp ${o.stamp}, now ${now}`);
        assert.deepEqual(Array.from(byChannel.get('cart')!.values), [0.5, -0.75]);
        assert.deepEqual(Array.from(byChannel.get('pole')!.values), [3.0, 0.125]);
        assert.equal(rig.plant.counters.observations, 2);
        assert.equal(rig.plant.dropped.total, 0);
      } finally {
        await rig.close();
      }
    });

    it('sends commands with increasing seq, the configured ttl and the action values', async () => {
      let t = 100;
      const rig = await connectRig(broker.url, codec);
      const wire = await rawClient(broker.url);
      try {
        const received: CommandEnvelope[] = [];
        rig.robot.commands$.subscribe((c) => received.push(c));
        const raw: Buffer[] = [];
        await wire.subscribeAsync(`${rig.cfg.topic_prefix}/command`);
        wire.on('message', (_topic, payload) => raw.push(payload));
        const plant = await MqttPlant.connect({ ...rig.cfg, client_id: `${rig.cfg.client_id}-b` }, {
          stateNames: STATE_NAMES,
          actionNames: ACTION_NAMES,
          controlPeriod: PERIOD,
          clock: () => (t += 0.02),
          log: quietLog,
        });
        try {
          for (let i = 0; i < 5; i++) plant.send(Float32Array.of(i * 0.5));
          await waitUntil(() => received.length === 5 && raw.length === 5, 'five commands');
        } finally {
          await plant.close();
        }
        assert.deepEqual(received.map((c) => c.seq), [1, 2, 3, 4, 5]);
        assert.deepEqual(received.map((c) => c.u), [[0], [0.5], [1], [1.5], [2]]);
        received.forEach((c, i) => {
          assert.ok(Math.abs(c.stamp - (100 + 0.02 * (i + 1))) < 1e-9, `stamp of command ${i}`);
          assert.equal(c.ttl, 2 * PERIOD);
        });
        // The wire format is what the contract says: a plain JSON object or a plain CBOR map.
        const first = codec === 'json' ? JSON.parse(raw[0]!.toString('utf8')) : cborDecode(raw[0]!);
        assert.deepEqual(Object.keys(first).sort(), ['seq', 'stamp', 'ttl', 'u']);
        if (codec === 'cbor') assert.ok((raw[0]![0]! & 0xe0) === 0xa0, 'a CBOR map (major type 5)');
      } finally {
        await wire.endAsync();
        await rig.close();
      }
    });

    it('carries heartbeats, arm commands and the robot e-stop', async () => {
      const rig = await connectRig(broker.url, codec);
      try {
        const arm: ArmCommand[] = [];
        const beats: number[] = [];
        rig.robot.arm$.subscribe((a) => arm.push(a));
        rig.robot.heartbeats$.subscribe((b) => beats.push(b));
        rig.plant.heartbeat();
        rig.plant.command('arm');
        rig.plant.command('disarm');
        rig.plant.command('estop');
        await waitUntil(() => arm.length === 3 && beats.length === 1, 'arm commands and a heartbeat');
        assert.deepEqual(arm, ['arm', 'disarm', 'estop']);
        assert.ok(Number.isFinite(beats[0]));
        const estop = nextMatching(rig.plant.events$, (e) => e.kind === 'estop', 'an e-stop event');
        rig.robot.estop('big red button');
        assert.deepEqual(await estop, { kind: 'estop', source: 'big red button' });
        assert.equal(rig.plant.counters.estopsReceived, 1);
      } finally {
        await rig.close();
      }
    });

    it('keeps a retained online presence, and the broker publishes offline when the daemon vanishes', async () => {
      const cfg = testConfig(broker.url, codec);
      const plant = await MqttPlant.connect(cfg, { stateNames: STATE_NAMES, actionNames: ACTION_NAMES, controlPeriod: PERIOD, log: quietLog });
      const wire = await rawClient(broker.url);
      try {
        const presence: { status: string; session: string; retained: boolean }[] = [];
        wire.on('message', (_t, payload, packet) => {
          const msg = codec === 'json' ? JSON.parse(payload.toString('utf8')) : cborDecode(payload);
          presence.push({ ...msg, retained: packet.retain });
        });
        // Subscribing after the daemon connected: only a retained message can arrive.
        await wire.subscribeAsync(`${cfg.topic_prefix}/status/daemon`, { qos: 1 });
        await waitUntil(() => presence.length === 1, 'the retained presence');
        assert.deepEqual(presence[0], { status: 'online', session: plant.session, retained: true });
        plant.abort(); // no DISCONNECT: the broker must publish the last will
        await waitUntil(() => presence.length === 2, 'the last will');
        assert.equal(presence[1]?.status, 'offline');
        assert.equal(presence[1]?.session, plant.session);
      } finally {
        await wire.endAsync();
      }
      // The will is retained: a newcomer sees the daemon offline.
      const late = await rawClient(broker.url);
      try {
        const got: string[] = [];
        late.on('message', (_t, payload) => got.push((codec === 'json' ? JSON.parse(payload.toString('utf8')) : cborDecode(payload)).status));
        await late.subscribeAsync(`${cfg.topic_prefix}/status/daemon`, { qos: 1 });
        await waitUntil(() => got.length === 1, 'the retained will');
        assert.deepEqual(got, ['offline']);
      } finally {
        await late.endAsync();
      }
    });

    it('counts and drops malformed readings and commands, and keeps working', async () => {
      const rig = await connectRig(broker.url, codec);
      const wire = await rawClient(broker.url);
      try {
        const seen: Observation[] = [];
        rig.plant.observations$.subscribe((o) => seen.push(o));
        const dropEvents: string[] = [];
        rig.plant.events$.subscribe((e) => e.kind === 'frame_dropped' && dropEvents.push(e.reason));
        const enc = (v: unknown): Buffer => (codec === 'json' ? Buffer.from(JSON.stringify(v)) : Buffer.from(plainCbor.encode(v)));
        const cart = `${rig.cfg.topic_prefix}/state/cart`;
        const bad: [Buffer, string][] = [
          [Buffer.from([0xff, 0x00, 0x13, 0x37, 0xfe]), 'decode'],
          [Buffer.from([]), 'decode'],
          [enc({ stamp: 1, pos: 'left', vel: 0 }), 'schema'],
          [enc({ stamp: 1, pos: 1 }), 'schema'],
          [enc([1, 2, 3]), 'schema'],
          [enc({ stamp: 'now', pos: 1, vel: 0 }), 'schema'],
          // JSON has no NaN; an overflowing literal is how a non-finite number arrives in JSON.
          [codec === 'json' ? Buffer.from('{"stamp":1,"pos":1e999,"vel":0}') : enc({ stamp: 1, pos: NaN, vel: 0 }), 'non_finite'],
          [codec === 'json' ? Buffer.from('{"stamp":-1e999,"pos":1,"vel":0}') : enc({ stamp: 1, pos: 1, vel: Infinity }), 'non_finite'],
        ];
        for (const [payload] of bad) await wire.publishAsync(cart, payload);
        await wire.publishAsync(cart, enc({ stamp: 2, pos: 0.25, vel: 0.5, extra: 'ignored' }));
        await waitUntil(() => seen.length === 1, 'the valid reading after the bad ones');
        assert.deepEqual(Array.from(seen[0]!.values), [0.25, 0.5]);
        const expected = { decode: 0, schema: 0, non_finite: 0, unknown_topic: 0 };
        for (const [, reason] of bad) expected[reason as keyof typeof expected] += 1;
        assert.deepEqual(rig.plant.dropped.byReason, expected);
        assert.equal(rig.plant.dropped.total, bad.length);
        assert.equal(dropEvents.length, bad.length);

        // The robot side too: garbage and wrong shapes on the command topic are counted, a good command still arrives.
        const commands: CommandEnvelope[] = [];
        rig.robot.commands$.subscribe((c) => commands.push(c));
        const commandTopic = `${rig.cfg.topic_prefix}/command`;
        await wire.publishAsync(commandTopic, Buffer.from('{"seq":'));
        await wire.publishAsync(commandTopic, enc({ seq: -1, stamp: 0, ttl: 0.04, u: [0] }));
        await wire.publishAsync(commandTopic, enc({ seq: 1, stamp: 0, ttl: 0.04, u: [] }));
        await wire.publishAsync(commandTopic, codec === 'json' ? Buffer.from('{"seq":1,"stamp":0,"ttl":0.04,"u":[1e999]}') : enc({ seq: 1, stamp: 0, ttl: 0.04, u: [NaN] }));
        rig.plant.send(Float32Array.of(1.5));
        await waitUntil(() => commands.length === 1, 'the valid command');
        // The broker orders messages per publisher, not across two clients: the plant's command may overtake the wire's garbage.
        await waitUntil(() => rig.robot.dropped.count >= 4, 'the four malformed commands');
        assert.deepEqual(commands[0]?.u, [1.5]);
        assert.equal(rig.robot.dropped.count, 4);
        assert.equal(rig.robot.drops.byReason.non_finite, 1);
      } finally {
        await wire.endAsync();
        await rig.close();
      }
    });
  });
}

describe('MqttPlant.connect', { timeout: 30_000 }, () => {
  it('rejects with an MpcdError naming the URL when no broker answers', async () => {
    const cfg = testConfig('mqtt://127.0.0.1:1', 'json', { connect_timeout: 0.5 });
    await assert.rejects(
      MqttPlant.connect(cfg, { stateNames: STATE_NAMES, actionNames: ACTION_NAMES, controlPeriod: PERIOD, log: quietLog }),
      (err: unknown) => err instanceof MpcdError && err.code === 'MQTT_CONNECT' && err.message.includes('mqtt://127.0.0.1:1'),
    );
  });

  it('uses the --mqtt URL override over the config URL', async () => {
    const cfg = testConfig('mqtt://127.0.0.1:1', 'json');
    const plant = await MqttPlant.connect(cfg, { stateNames: STATE_NAMES, actionNames: ACTION_NAMES, controlPeriod: PERIOD, urlOverride: broker.url, log: quietLog });
    try {
      assert.equal(plant.url, broker.url);
      assert.ok(plant.connected);
    } finally {
      await plant.close();
    }
  });

  it('refuses a config whose channels do not cover the model state', async () => {
    const cfg = testConfig(broker.url, 'json', { channels: [{ name: 'cart', fields: { x: 'pos', y: 'vel' } }] });
    await assert.rejects(
      MqttPlant.connect(cfg, { stateNames: STATE_NAMES, actionNames: ACTION_NAMES, controlPeriod: PERIOD, log: quietLog }),
      (err: unknown) => err instanceof MpcdError && err.code === 'MQTT_CONFIG' && /'y' is not a state/.test(err.message) && /no channel reads theta/.test(err.message),
    );
  });

  it('names the missing password variable', async () => {
    const cfg = testConfig(broker.url, 'json', { username: 'robot', password_env: 'MPCD_TEST_SURELY_UNSET_PASSWORD' });
    await assert.rejects(
      MqttPlant.connect(cfg, { stateNames: STATE_NAMES, actionNames: ACTION_NAMES, controlPeriod: PERIOD, log: quietLog }),
      (err: unknown) => err instanceof MpcdError && err.code === 'MQTT_AUTH' && err.message.includes('MPCD_TEST_SURELY_UNSET_PASSWORD'),
    );
  });
});
