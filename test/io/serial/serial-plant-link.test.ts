import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { VirtualTimeScheduler } from 'rxjs';
import { serialPlantSchema, type SerialPlantConfigInput } from '../../../src/config/serial-plant-schema.js';
import { MpcdError } from '../../../src/core/errors.js';
import type { Observation, PlantEvent } from '../../../src/io/plant.js';
import { SerialPlant } from '../../../src/io/serial/serial-plant.js';
import { FakePort, FakePorts } from './fake-ports.js';

/**
 * The plant's link handling in virtual time, over fake ports: backoff, silence, robot
 * restarts, drops. The real-pty version of the same story is serial-plant.test.ts.
 */

const base: SerialPlantConfigInput = {
  kind: 'serial',
  port: { path: '/dev/fake' },
  channels: [{ id: 2, name: 'all', states: ['x', 'v'] }],
  actions: ['f'],
  silence_timeout: 0.5,
  boot_timeout: 2,
  reopen_backoff: { min: 0.1, max: 1 },
};

async function setup(input: SerialPlantConfigInput = base) {
  const scheduler = new VirtualTimeScheduler(undefined, 0);
  const ports = new FakePorts(scheduler);
  const plant = await SerialPlant.open(serialPlantSchema.parse(input), {
    stateNames: ['x', 'v'],
    actionNames: ['f'],
    controlPeriod: 0.02,
    scheduler,
    clock: () => scheduler.now() / 1000,
    logger: pino({ level: 'silent' }),
    session: 99,
    ports,
  });
  const events: PlantEvent[] = [];
  const obs: Observation[] = [];
  plant.events$.subscribe((e) => events.push(e));
  plant.observations$.subscribe((o) => obs.push(o));
  /** Runs virtual time forward by `ms`, letting the plant's async reopen steps settle in between. */
  const advance = async (ms: number) => {
    const end = scheduler.now() + ms;
    for (let t = scheduler.now(); t < end; ) {
      t = Math.min(end, t + 10);
      scheduler.maxFrames = t;
      scheduler.flush();
      scheduler.frame = t;
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
  };
  let robotSeq = 0;
  const state = (port: FakePort, stamp: number, session = 7, seq = robotSeq++) =>
    port.receive({ type: 'state', session, seq, stamp, channel: 2, values: [1, 2] });
  return { scheduler, ports, plant, events, obs, advance, state };
}

const kinds = (events: PlantEvent[]) => events.filter((e) => e.kind === 'link_up' || e.kind === 'link_down').map((e) => e.kind);

test('the link is up at the first frame; writes before it are dropped, not queued', async () => {
  const { plant, ports, events, state } = await setup();
  plant.send(Float32Array.of(1));
  assert.equal(ports.last.written.length, 0);
  assert.equal(plant.counters.droppedWhileDown, 1);
  state(ports.last, 1);
  assert.deepEqual(kinds(events), ['link_up']);
  plant.send(Float32Array.of(2));
  plant.heartbeat();
  plant.command('arm');
  assert.deepEqual(
    ports.last.sent().map((m) => [m.type, m.seq]),
    [['command', 0], ['heartbeat', 1], ['arm', 2]],
  );
  const cmd = ports.last.sent()[0]!;
  assert.ok(cmd.type === 'command' && cmd.ttl === 0.04 && cmd.session === 99 && cmd.u[0] === 2);
  await plant.close();
});

test('a closed port: link_down, reopen attempts back off 0.1, 0.2, 0.4 ... up to 1 s, then link_up and the backoff resets', async () => {
  const { plant, ports, events, advance, state } = await setup();
  state(ports.last, 1);
  ports.available = false;
  const t0 = ports.attempts.length;
  ports.last.emit('close');
  assert.deepEqual(kinds(events), ['link_up', 'link_down']);
  plant.send(Float32Array.of(1));
  assert.equal(plant.counters.droppedWhileDown, 1);
  const closedAt = ports.scheduler.now();
  await advance(5000);
  assert.equal(ports.attempts[t0], closedAt + 100, 'first attempt after reopen_backoff.min');
  const gaps = ports.attempts.slice(t0).map((t, i, a) => (i === 0 ? t : t - a[i - 1]!));
  assert.deepEqual(gaps.slice(1, 7), [200, 400, 800, 1000, 1000, 1000]);
  ports.available = true;
  await advance(1000);
  assert.equal(ports.opened.length, 2);
  assert.deepEqual(kinds(events), ['link_up', 'link_down'], 'up only when the robot is heard');
  state(ports.last, 2);
  assert.deepEqual(kinds(events), ['link_up', 'link_down', 'link_up']);
  assert.equal(plant.counters.reopens, 1);
  // Backoff starts again from min.
  const t1 = ports.attempts.length;
  ports.available = false;
  ports.last.emit('close');
  await advance(350);
  assert.deepEqual(ports.attempts.slice(t1).map((t) => t - ports.attempts[t1]!), [0, 200]);
  await plant.close();
});

test('silence: no valid frame for silence_timeout takes the link down and reopens the port', async () => {
  const { plant, ports, events, advance, state } = await setup();
  state(ports.last, 1);
  await advance(300);
  state(ports.last, 1.3);
  await advance(300);
  assert.deepEqual(kinds(events), ['link_up'], 'heard 0.3 s ago: still up');
  ports.last.emit('data', Buffer.from([1, 2, 3, 0])); // garbage does not count as hearing the robot
  await advance(400);
  assert.deepEqual(kinds(events), ['link_up', 'link_down']);
  assert.equal(ports.opened[0]!.isOpen, false, 'the silent port was closed');
  await advance(200);
  assert.equal(ports.opened.length, 2, 'and opened again');
  await plant.close();
});

test('after opening, the robot gets boot_timeout (not silence_timeout) to speak', async () => {
  const { plant, ports, advance } = await setup();
  await advance(1500);
  assert.equal(ports.opened.length, 1);
  assert.equal(ports.opened[0]!.isOpen, true);
  await advance(1000);
  assert.equal(ports.opened[0]!.isOpen, false);
  await plant.close();
});

test('a rebooted robot (new session): its stamps start afresh at once, on the daemon clock, still rising; duplicates are dropped', async () => {
  const { plant, ports, obs, events, advance, state } = await setup();
  state(ports.last, 10, 7, 1);
  state(ports.last, 10.01, 7, 2);
  state(ports.last, 10.01, 7, 2); // duplicate
  await advance(200);
  state(ports.last, 0.001, 8, 0); // rebooted: clock and seq from zero
  state(ports.last, 0.011, 8, 1);
  assert.deepEqual(obs.map((o) => o.channel), ['all', 'all', 'all', 'all']);
  const stamps = obs.map((o) => o.stamp);
  // Robot stamps are handed on in the daemon's clock: its time of arrival for the first reading of a session.
  assert.ok(Math.abs(stamps[0]! - 0) < 1e-9 && Math.abs(stamps[1]! - 0.01) < 1e-9, `${stamps}`);
  assert.ok(Math.abs(stamps[2]! - 0.2) < 1e-9, `the new session starts at the daemon time of its first reading: ${stamps[2]}`);
  assert.ok(Math.abs(stamps[3]! - stamps[2]! - 0.01) < 1e-9);
  assert.deepEqual(
    events.filter((e) => e.kind !== 'link_up'),
    [{ kind: 'frame_dropped', reason: 'duplicate_or_old' }, { kind: 'robot_restart', detail: 'new session 8' }],
  );
  await plant.close();
});

test('a seq that jumps (corrupt, or reset without a new session) re-synchronises after a few frames instead of blinding the link', async () => {
  const { plant, ports, obs, events, state, advance } = await setup();
  state(ports.last, 1, 7, 10);
  await advance(10);
  state(ports.last, 1.01, 7, 1_000_000_000); // a seq far ahead (a jump behind, over 2^31, is just old)
  for (let i = 0; i < 10; i++) {
    await advance(10);
    state(ports.last, 1.02 + i * 0.01, 7, 11 + i);
  }
  // The default resync count at a 0.02 s period is 3: the first 2 in-order frames after the jump are dropped.
  assert.deepEqual(events.filter((e) => e.kind === 'frame_dropped' || e.kind === 'reading_dropped'), [
    { kind: 'frame_dropped', reason: 'duplicate_or_old' },
    { kind: 'frame_dropped', reason: 'duplicate_or_old' },
  ]);
  assert.equal(obs.length, 2 + 8);
  await plant.close();
});

test('malformed, unknown-channel and wrong-direction frames are counted by reason; a robot e-stop is an event', async () => {
  const { plant, ports, events, state } = await setup();
  state(ports.last, 1);
  const p = ports.last;
  p.emit('data', Buffer.from([5, 1, 2, 0])); // COBS block past the end
  p.emit('data', Buffer.alloc(600, 7)); // over-long
  p.emit('data', Buffer.from([0]));
  p.receive({ type: 'state', session: 7, seq: 50, stamp: 2, channel: 9, values: [1, 2] });
  p.receive({ type: 'state', session: 7, seq: 51, stamp: 2, channel: 2, values: [1] });
  p.receive({ type: 'command', session: 7, seq: 52, stamp: 2, ttl: 1, u: [1] });
  p.receive({ type: 'estop', session: 7, seq: 53, stamp: 2, source: 'limit_x' });
  assert.deepEqual(plant.counters.dropped, { cobs: 1, oversize: 1, unknown_channel: 1, bad_length: 1, unexpected_type: 1 });
  assert.deepEqual(
    events.filter((e) => e.kind !== 'link_up'),
    [
      { kind: 'frame_dropped', reason: 'cobs' },
      { kind: 'frame_dropped', reason: 'oversize' },
      { kind: 'frame_dropped', reason: 'unknown_channel' },
      { kind: 'frame_dropped', reason: 'bad_length' },
      { kind: 'frame_dropped', reason: 'unexpected_type' },
      { kind: 'estop', source: 'limit_x' },
    ],
  );
  assert.equal(plant.counters.framesIn, 7); // state, cobs, oversize, four messages
  await plant.close();
});

test('a NaN action is never sent; a port that is not keeping up drops instead of queueing', async () => {
  const { plant, ports, state } = await setup();
  state(ports.last, 1);
  plant.send(Float32Array.of(Number.NaN));
  assert.equal(ports.last.written.length, 0);
  assert.equal(plant.counters.dropped['non_finite_action'], 1);
  ports.last.writableLength = 1 << 20;
  plant.send(Float32Array.of(1));
  assert.equal(ports.last.written.length, 0);
  assert.equal(plant.counters.droppedBackpressure, 1);
  assert.throws(() => plant.send(Float32Array.of(1, 2)), (e) => e instanceof MpcdError && e.code === 'SERIAL_ACTION');
  await plant.close();
});

test('the port is found by USB vendor/product id; open errors say what to do', async () => {
  const byId = { ...base, port: { vendor_id: '0x2341', product_id: '0043' } };
  const scheduler = new VirtualTimeScheduler();
  const ports = new FakePorts(scheduler);
  ports.listing = [
    { path: '/dev/ttyS0' },
    { path: '/dev/ttyACM3', vendorId: '2341', productId: '0043' },
  ];
  const opts = { stateNames: ['x', 'v'], actionNames: ['f'], controlPeriod: 0.02, scheduler, logger: pino({ level: 'silent' }), ports };
  const plant = await SerialPlant.open(serialPlantSchema.parse(byId), opts);
  assert.equal(ports.last.path, '/dev/ttyACM3');
  await plant.close();

  ports.listing = [{ path: '/dev/ttyS0' }];
  await assert.rejects(SerialPlant.open(serialPlantSchema.parse(byId), opts), (e) => e instanceof MpcdError && e.code === 'SERIAL_NOT_FOUND' && /\/dev\/ttyS0/.test(e.message));
  const over = await SerialPlant.open(serialPlantSchema.parse(byId), { ...opts, portOverride: '/dev/override' });
  assert.equal(ports.last.path, '/dev/override');
  await over.close();
  ports.available = false;
  await assert.rejects(SerialPlant.open(serialPlantSchema.parse(base), opts), (e) => e instanceof MpcdError && e.code === 'SERIAL_OPEN' && /dialout/.test(e.message));
});

test('channels and actions that do not fit the model are one error listing every problem', async () => {
  const bad = { ...base, channels: [{ id: 0, name: 'c', states: ['x', 'typo'] }], actions: ['g'] };
  const scheduler = new VirtualTimeScheduler();
  await assert.rejects(
    SerialPlant.open(serialPlantSchema.parse(bad), { stateNames: ['x', 'v'], actionNames: ['f'], controlPeriod: 0.02, scheduler, ports: new FakePorts(scheduler) }),
    (e) => e instanceof MpcdError && e.code === 'SERIAL_CONFIG' && /'typo'/.test(e.message) && /state 'v'/.test(e.message) && /action 'g'/.test(e.message) && /action 'f'/.test(e.message),
  );
});

test('the config schema applies defaults, normalises USB ids and refuses bad ports and duplicate channels', () => {
  const cfg = serialPlantSchema.parse({ kind: 'serial', port: { vendor_id: '0X2A03', product_id: '0043' }, channels: [{ id: 0, name: 'c', states: ['x'] }], actions: ['f'] });
  assert.deepEqual(cfg.port, { vendor_id: '2a03', product_id: '0043' });
  assert.equal(cfg.baud, 115200);
  assert.equal(cfg.framing, 'cobs');
  assert.equal(cfg.command_ttl, undefined);
  assert.deepEqual(cfg.reopen_backoff, { min: 0.1, max: 2 });
  const refuse = (patch: object) => assert.equal(serialPlantSchema.safeParse({ ...base, ...patch }).success, false, JSON.stringify(patch));
  refuse({ port: { vendor_id: '2341' } });
  refuse({ port: { path: '/dev/x', vendor_id: '2341', product_id: '0043' } });
  refuse({ port: { vendor_id: 'usb', product_id: '0043' } });
  refuse({ framing: 'slip' });
  refuse({ channels: [{ id: 0, name: 'a', states: ['x'] }, { id: 0, name: 'b', states: ['v'] }] });
  refuse({ reopen_backoff: { min: 3, max: 1 } });
  refuse({ extra: 1 });
});
