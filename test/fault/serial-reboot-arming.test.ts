import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { VirtualTimeScheduler } from 'rxjs';
import { serialPlantSchema } from '../../src/config/serial-plant-schema.js';
import type { PlantEvent } from '../../src/io/plant.js';
import { SerialPlant } from '../../src/io/serial/serial-plant.js';
import { defaultSafetyConfig } from '../../src/safety/safety-config.js';
import { SafetySupervisor } from '../../src/safety/safety-supervisor.js';
import { FakePorts } from '../io/serial/fake-ports.js';

/**
 * A serial robot that reboots and stays silent for longer than `silence_timeout` (the HIL's
 * reboot:1.0): the daemon reports the link down and reopens the port, and the first frame of the
 * new boot brings both a link_up and a new session. The daemon must never tell that robot `arm`
 * (it came up disarmed, in a state no plan knows): the robot_restart has to reach the safety
 * layer before the link_up, which would otherwise re-send the arming it last wanted. In
 * virtual time, over in-memory ports.
 */

const PERIOD_S = 0.02;

test('serial: a reboot longer than silence_timeout is link_down, then link_up and robot_restart; the rebooted robot is told disarm, never arm, until the operator arms', async () => {
  const scheduler = new VirtualTimeScheduler(undefined, 0);
  const ports = new FakePorts(scheduler);
  const silent = pino({ level: 'silent' });
  const plant = await SerialPlant.open(
    serialPlantSchema.parse({ kind: 'serial', port: { path: '/dev/memory' }, channels: [{ id: 1, name: 'pole', states: ['theta'] }], actions: ['u'], silence_timeout: 0.5 }),
    { stateNames: ['theta'], actionNames: ['u'], controlPeriod: PERIOD_S, scheduler, clock: () => scheduler.now() / 1000, logger: silent, session: 5, ports },
  );
  const events: PlantEvent['kind'][] = [];
  plant.events$.subscribe((e) => events.push(e.kind));
  const safety = new SafetySupervisor({ plant, config: { ...defaultSafetyConfig(PERIOD_S * 1000), armOnStart: false }, safeAction: Float32Array.of(0), logger: silent });
  /** Runs virtual time forward, letting the plant's async reopen settle in between. */
  const advance = async (ms: number): Promise<void> => {
    const end = scheduler.now() + ms;
    for (let t = scheduler.now(); t < end; ) {
      t = Math.min(end, t + 10);
      scheduler.maxFrames = t;
      scheduler.flush();
      scheduler.frame = t;
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
  };
  /** The arming the daemon wrote, over every port it opened, in order. */
  const arming = (): string[] => ports.opened.flatMap((p) => p.sent()).flatMap((m) => (m.type === 'arm' || m.type === 'disarm' ? [m.type] : []));
  let seq = 0;
  const frames = async (session: number, fromS: number, n: number): Promise<void> => {
    for (let k = 0; k < n; k++) {
      ports.last.receive({ type: 'state', session, seq: seq++, stamp: fromS + k * 0.01, channel: 1, values: [3.1] });
      await advance(10);
    }
  };

  await frames(0x1000, 100, 20);
  safety.arm();
  await frames(0x1000, 100.2, 20);
  assert.deepEqual(arming(), ['disarm', 'arm'], 'disarm at the first link_up (not armed yet), then the arm');
  // Power lost for 1 s: the link goes down and the port is reopened.
  await advance(1000);
  assert.ok(events.includes('link_down'), `events: ${events.join(', ')}`);
  const before = arming().length;
  // The new boot: session, seq and clock from 0.
  seq = 0;
  await frames(0x2000, 0, 20);
  assert.deepEqual(events.slice(events.indexOf('link_down') + 1).filter((k) => k === 'link_up' || k === 'robot_restart').sort(), ['link_up', 'robot_restart']);
  assert.deepEqual(arming().slice(before), ['disarm'], 'the rebooted robot was told to arm');
  assert.equal(safety.counts.faults['robot_restart'], 1);
  // The operator's (the next episode's) arm is what arms it again.
  safety.arm();
  assert.deepEqual(arming().slice(before), ['disarm', 'arm']);
  safety.close();
  await plant.close();
});
