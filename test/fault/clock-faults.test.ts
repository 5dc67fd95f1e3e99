import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { of, VirtualTimeScheduler } from 'rxjs';
import { mqttPlantSchema } from '../../src/config/mqtt-plant-schema.js';
import { serialPlantSchema } from '../../src/config/serial-plant-schema.js';
import type { MqttLinkConnection } from '../../src/io/mqtt/mqtt-connection.js';
import { MqttPlant } from '../../src/io/mqtt/mqtt-plant.js';
import type { ArmCommand, PlantEvent, PlantPort } from '../../src/io/plant.js';
import { SerialPlant } from '../../src/io/serial/serial-plant.js';
import { FakePorts } from '../io/serial/fake-ports.js';
import { controlLoop, type ControlStep } from '../../src/loop/control-loop.js';
import { LinkStats, type LinkCounts } from '../../src/loop/link-stats.js';
import { TransitionFlags } from '../../src/log/transition-schema.js';
import { ActionFilter } from '../../src/safety/action-filter.js';
import { defaultSafetyConfig } from '../../src/safety/safety-config.js';
import { SafetySupervisor } from '../../src/safety/safety-supervisor.js';

/**
 * The faults of a robot's clock on each transport, in virtual time: the daemon's real plant code
 * (MqttPlant over an in-memory broker connection, SerialPlant over an in-memory port), its control
 * loop and safety layer, against a robot that publishes two channels at 100 Hz (the control loop
 * runs at 50 Hz) with 1 ms of latency and, one second in, a fault:
 * - garbage_stamp: one pole reading stamped 10^6 s ahead;
 * - clock_step ±5 s: the robot's clock jumps for good;
 * - reboot: the robot is silent for 0.3 s and comes back with a new session, seq and clock from
 *   0, disarmed (the documented rule: the daemon holds the safe action until the next arm);
 * - flood: 10 kHz of valid readings per channel for 1 s.
 * Asserted: control resumes within 0.1 s of the first good reading after the fault (or of the
 * arm, after a reboot), at most 10 good readings are dropped, and every drop is counted by
 * reason in the link counters the run summary prints.
 */

const PERIOD_S = 0.02; // control
const READING_S = 0.01; // robot publish period
const LATENCY_MS = 1;
const FAULT_AT_S = 1;
const REBOOT_DOWN_S = 0.3;
const ARM_AFTER_REBOOT_S = 2;
const END_S = 3;
const STEPS = END_S / PERIOD_S;
const PLANNED = 0.25; // the plan's action; the safe action is 0
const silent = pino({ level: 'silent' });

type Fault = { kind: 'garbage_stamp' } | { kind: 'clock_step'; jump: number } | { kind: 'reboot' } | { kind: 'flood'; rate: number };

/** The robot's side of one transport: how a reading, a new session and the arming get across. */
interface WireRobot {
  readonly plant: PlantPort;
  /** Sends one reading of `channel` (cart: [x, x_dot], pole: [theta, theta_dot]). */
  reading(channel: 'cart' | 'pole', stamp: number, values: readonly number[]): void;
  /** The robot went away (MQTT: its last will) and came back with a new session. */
  rebooted(): void;
  /** The arm commands the daemon sent the robot, in order. */
  readonly arms: ArmCommand[];
}

/** MqttPlant over a fake connection: readings are delivered as broker messages, in JSON. */
async function mqttRobot(scheduler: VirtualTimeScheduler): Promise<WireRobot> {
  const client = new EventEmitter() as EventEmitter & { subscribe(...a: unknown[]): void; publish(topic: string, payload: Buffer, ...rest: unknown[]): void };
  const arms: ArmCommand[] = [];
  client.subscribe = () => {};
  client.publish = (topic, payload) => {
    if (topic.endsWith('/arm')) arms.push((JSON.parse(payload.toString()) as { cmd: ArmCommand }).cmd);
  };
  const cfg = mqttPlantSchema.parse({
    kind: 'mqtt',
    topic_prefix: 'lab',
    channels: [
      { name: 'cart', fields: { x: 'x', x_dot: 'x_dot' } },
      { name: 'pole', fields: { theta: 'theta', theta_dot: 'theta_dot' } },
    ],
  });
  const plant = await MqttPlant.connect(cfg, {
    stateNames: ['x', 'theta', 'x_dot', 'theta_dot'],
    actionNames: ['u'],
    controlPeriod: PERIOD_S,
    clock: () => scheduler.now() / 1000,
    log: silent,
    connector: async (o) => {
      o.onUp(client as unknown as MqttClient);
      const conn: MqttLinkConnection = { client: client as unknown as MqttClient, connected: true, reconnectAttempts: 0, close: async () => {}, abort: () => {} };
      return conn;
    },
  });
  let session = 1;
  const message = (topic: string, body: object) => client.emit('message', topic, Buffer.from(JSON.stringify(body)));
  message('lab/status/robot', { status: 'online', session: `boot-${session}` });
  return {
    plant,
    arms,
    reading: (channel, stamp, [a, b]) => {
      const body = channel === 'cart' ? { stamp, x: a, x_dot: b } : { stamp, theta: a, theta_dot: b };
      message(`lab/state/${channel}`, body);
    },
    rebooted: () => {
      message('lab/status/robot', { status: 'offline', session: `boot-${session}` }); // its last will
      session++;
      message('lab/status/robot', { status: 'online', session: `boot-${session}` });
    },
  };
}

/** SerialPlant over an in-memory port: readings are COBS+CRC STATE frames with session and seq. */
async function serialRobot(scheduler: VirtualTimeScheduler): Promise<WireRobot> {
  const ports = new FakePorts(scheduler);
  const cfg = serialPlantSchema.parse({
    kind: 'serial',
    port: { path: '/dev/memory' },
    channels: [
      { id: 0, name: 'cart', states: ['x', 'x_dot'] },
      { id: 1, name: 'pole', states: ['theta', 'theta_dot'] },
    ],
    actions: ['u'],
  });
  const plant = await SerialPlant.open(cfg, {
    stateNames: ['x', 'theta', 'x_dot', 'theta_dot'],
    actionNames: ['u'],
    controlPeriod: PERIOD_S,
    scheduler,
    clock: () => scheduler.now() / 1000,
    logger: silent,
    session: 77,
    ports,
  });
  let session = 0x1000;
  let seq = 0;
  return {
    plant,
    // The arm commands the robot received: decoded from the frames the plant wrote.
    get arms(): ArmCommand[] {
      return ports.last.sent().flatMap((m) => (m.type === 'arm' || m.type === 'disarm' || m.type === 'estop' ? [m.type] : []));
    },
    reading: (channel, stamp, values) =>
      ports.last.receive({ type: 'state', session, seq: seq++, stamp, channel: channel === 'cart' ? 0 : 1, values: [...values] }),
    rebooted: () => {
      session++;
      seq = 0;
    },
  };
}

interface Outcome {
  steps: ControlStep[];
  link: LinkCounts;
  events: PlantEvent[];
  arms: ArmCommand[];
  /** Daemon time (s) of the first reading that arrived after the fault ended (the robot back to good readings). */
  firstGoodAfterFault: number;
  /** Good readings (well-formed, stamped by the robot's clock as it then was) sent after the fault started. */
  goodAfterFault: number;
  faults: Record<string, number>;
}

async function run(transport: 'mqtt' | 'serial', fault: Fault): Promise<Outcome> {
  const scheduler = new VirtualTimeScheduler(undefined, (END_S + 0.5) * 1000);
  const robot = transport === 'mqtt' ? await mqttRobot(scheduler) : await serialRobot(scheduler);
  const link = new LinkStats(robot.plant);
  const events: PlantEvent[] = [];
  robot.plant.events$?.subscribe((e) => events.push(e));
  const safety = new SafetySupervisor({
    plant: robot.plant,
    config: { ...defaultSafetyConfig(PERIOD_S * 1000), armOnStart: false },
    safeAction: Float32Array.of(0),
    logger: silent,
  });
  safety.arm();
  const filter = new ActionFilter({ low: Float32Array.of(-1), high: Float32Array.of(1) }, Float32Array.of(0), Float32Array.of(Infinity), PERIOD_S);
  const action = Float32Array.of(PLANNED);
  const steps: ControlStep[] = [];
  controlLoop({
    plant: robot.plant,
    stateDim: 4,
    periodMs: PERIOD_S * 1000,
    scheduler,
    steps: STEPS,
    plan: () => of({ action, planMs: 0 }),
    filter,
    safety,
    readings: link.readings,
  }).subscribe((s) => steps.push(s));

  // The robot: its clock is `clockOffset + t` (t = daemon seconds); readings every 10 ms, 1 ms late.
  let clockOffset = 1234.5;
  let down = false;
  let firstGoodAfterFault = NaN;
  let goodAfterFault = 0;
  const faultEnd = FAULT_AT_S + (fault.kind === 'reboot' ? REBOOT_DOWN_S : fault.kind === 'flood' ? 1 : 0);
  const send = (channel: 'cart' | 'pole', measuredS: number, stamp: number, good: boolean) => {
    scheduler.schedule(() => {
      const now = scheduler.now() / 1000;
      if (good && measuredS >= FAULT_AT_S) {
        goodAfterFault++;
        if (measuredS >= faultEnd && Number.isNaN(firstGoodAfterFault)) firstGoodAfterFault = now;
      }
      robot.reading(channel, stamp, channel === 'cart' ? [0.1, 0] : [3.1, 0]);
    }, Math.max(0, measuredS * 1000 + LATENCY_MS - scheduler.now()));
  };
  for (let i = 0; i * READING_S < END_S + 0.2; i++) {
    const t = i * READING_S;
    scheduler.schedule(() => {
      if (fault.kind === 'clock_step' && Math.abs(t - FAULT_AT_S) < 1e-9) clockOffset += fault.jump;
      if (fault.kind === 'reboot' && Math.abs(t - FAULT_AT_S) < 1e-9) down = true;
      if (fault.kind === 'reboot' && Math.abs(t - faultEnd) < 1e-9) {
        down = false;
        clockOffset = -t; // the robot's clock starts again at 0
        robot.rebooted();
      }
      if (down) return;
      send('cart', t, clockOffset + t, true);
      send('pole', t, clockOffset + t, true);
      if (fault.kind === 'garbage_stamp' && Math.abs(t - FAULT_AT_S) < 1e-9) send('pole', t + 0.0001, 1e6, false);
      if (fault.kind === 'flood' && t >= FAULT_AT_S && t < faultEnd) {
        const extra = Math.round(fault.rate * READING_S) - 1;
        for (let k = 1; k <= extra; k++) {
          const tk = t + (k * READING_S) / (extra + 1);
          send('cart', tk, clockOffset + tk, true);
          send('pole', tk, clockOffset + tk, true);
        }
      }
    }, t * 1000);
  }
  if (fault.kind === 'reboot') scheduler.schedule(() => safety.arm(), ARM_AFTER_REBOOT_S * 1000);
  scheduler.flush();
  const out: Outcome = { steps, link: link.counts, events, arms: robot.arms, firstGoodAfterFault, goodAfterFault, faults: safety.counts.faults };
  link.close();
  safety.close();
  await robot.plant.close();
  return out;
}

const isPlanned = (s: ControlStep): boolean => s.action !== undefined && (s.flags & TransitionFlags.safe_action_sent) === 0 && Math.abs(s.action[0]! - PLANNED) < 1e-6;

/** Every tick from `fromS` (daemon s) to the end plans; returns the first planned tick at or after `fromS`. */
function assertPlanningFrom(o: Outcome, fromS: number): void {
  const after = o.steps.filter((s) => s.due >= fromS * 1000 && s.action !== undefined);
  assert.ok(after.length > 10, `only ${after.length} ticks after ${fromS} s`);
  const bad = after.filter((s) => !isPlanned(s));
  assert.deepEqual(bad.map((s) => s.due), [], `ticks from ${fromS} s sent the safe action`);
}

/** Readings dropped for their stamps; in a clock step every one of them was a good reading. */
function goodDropped(o: Outcome): number {
  return Object.values(o.link.readings_dropped).reduce((a, b) => a + b, 0);
}

for (const transport of ['mqtt', 'serial'] as const) {
  describe(`robot clock faults over ${transport} (virtual time)`, () => {
    test('clean run: every tick from the first full state plans, nothing dropped', async () => {
      const o = await run(transport, { kind: 'flood', rate: 100 }); // rate 100 Hz = the normal stream: no extra readings
      assertPlanningFrom(o, 0.05);
      assert.deepEqual(o.link.readings_dropped, {});
      assert.equal(o.link.frames_dropped_total, 0);
    });

    test('garbage_stamp: one pole reading 10^6 s ahead is dropped as stamp_in_future, counted, and control never stops', async () => {
      const o = await run(transport, { kind: 'garbage_stamp' });
      assertPlanningFrom(o, 0.05);
      assert.deepEqual(o.link.readings_dropped, { stamp_in_future: 1 });
      assert.equal(o.link.clock_steps, 0);
      assert.deepEqual(o.faults, {});
    });

    for (const jump of [-5, 5]) {
      test(`clock_step ${jump} s for good: re-based within a few readings, a clock_step event of ${jump} s, control resumes within 0.1 s`, async () => {
        const o = await run(transport, { kind: 'clock_step', jump });
        const steps = o.events.filter((e): e is Extract<PlantEvent, { kind: 'clock_step' }> => e.kind === 'clock_step');
        assert.deepEqual(steps.map((e) => e.channel).sort(), ['cart', 'pole']);
        for (const e of steps) assert.ok(Math.abs(e.jump - jump) < 0.01, `jump ${e.jump}`);
        assert.equal(o.link.clock_steps, 2);
        assert.ok(Math.abs(o.link.largest_clock_step_s - jump) < 0.01);
        const dropped = goodDropped(o);
        assert.ok(dropped > 0 && dropped <= 10, `${dropped} good readings dropped: ${JSON.stringify(o.link.readings_dropped)}`);
        assert.deepEqual(Object.keys(o.link.readings_dropped), [jump < 0 ? 'not_newer' : 'stamp_in_future']);
        assertPlanningFrom(o, o.firstGoodAfterFault + 0.1);
      });
    }

    test('reboot: robot_restart, the daemon disarms the robot and holds the safe action; control resumes within 0.1 s of the next arm', async () => {
      const o = await run(transport, { kind: 'reboot' });
      assert.equal(o.link.robot_restarts, 1);
      assert.deepEqual(o.link.readings_dropped, {}, 'the new session is judged afresh: nothing dropped');
      assert.equal(o.faults['robot_restart'], 1);
      // Between the robot coming back and the arm, only safe actions; the robot was told disarm.
      const between = o.steps.filter((s) => s.action !== undefined && s.due > o.firstGoodAfterFault * 1000 && s.due < ARM_AFTER_REBOOT_S * 1000);
      assert.ok(between.length > 10 && between.every((s) => !isPlanned(s)), 'no plan goes to a robot that rebooted before it is armed again');
      assert.deepEqual(o.arms.filter((c, i) => c !== o.arms[i - 1]), ['arm', 'disarm', 'arm']);
      assertPlanningFrom(o, ARM_AFTER_REBOOT_S + 0.1);
    });

    test('flood: 10 kHz of valid readings for 1 s: newest wins, the rest counted as superseded, control never stops', async () => {
      const o = await run(transport, { kind: 'flood', rate: 10_000 });
      assertPlanningFrom(o, 0.05);
      assert.deepEqual(o.link.readings_dropped, {});
      // 2 channels x 10,000 readings in the flood second, of which one per channel per tick is read.
      assert.ok(o.link.readings_superseded > 19_000, `superseded ${o.link.readings_superseded}`);
    });
  });
}
