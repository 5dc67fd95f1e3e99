import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { filter, firstValueFrom, take, timeout, toArray, type Observable } from 'rxjs';
import { SerialRobotLink } from '../../../sim/links/serial-robot-link.js';
import { serialPlantSchema } from '../../../src/config/serial-plant-schema.js';
import type { CommandEnvelope } from '../../../src/io/command-envelope.js';
import type { Observation, PlantEvent } from '../../../src/io/plant.js';
import { SerialPlant } from '../../../src/io/serial/serial-plant.js';
import { findSocat, SocatPair } from './socat-pair.js';

/**
 * The serial plant over a real pty pair (socat): the daemon's SerialPlant on one end, the
 * virtual robot's SerialRobotLink on the other, and socat killed and restarted in between
 * as a pulled and replugged cable.
 */
const socat = findSocat();
const silent = pino({ level: 'silent' });
const WAIT_MS = 5000;

/** Polls until `cond` holds; fails naming `what` after WAIT_MS. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + WAIT_MS;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const within = <T>(o: Observable<T>, what: string): Promise<T> =>
  firstValueFrom(o.pipe(timeout({ first: WAIT_MS, with: () => { throw new Error(`timed out waiting for ${what}`); } })));

for (const framing of ['cobs', 'ndjson'] as const) {
  describe(`serial plant over a socat pty pair (${framing})`, { skip: socat === null ? 'socat is not installed (apt-get install socat); skipping the pty tests' : false }, () => {
    let dir: string;
    let pair: SocatPair;
    let robot: SerialRobotLink;
    let plant: SerialPlant;
    const events: PlantEvent[] = [];
    const observations: Observation[] = [];
    const commands: CommandEnvelope[] = [];
    let robotClock = 0;
    let publisher: ReturnType<typeof setInterval> | undefined;
    let garbleNext = false; // the robot link's outgoing hook replaces the next frame with garbage

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mpcd-serial-'));
      pair = new SocatPair(socat!, join(dir, 'robot'), join(dir, 'daemon'));
      await pair.start();
      robot = await SerialRobotLink.open(pair.robotPath, {
        framing,
        channels: [
          { id: 0, name: 'pos' },
          { id: 7, name: 'vel' },
        ],
        reopenDelayMs: 20,
        session: 0xabcd,
        outgoing: (bytes) => {
          if (!garbleNext) return bytes;
          garbleNext = false;
          return framing === 'cobs' ? Uint8Array.of(5, 1, 2, 0) : new TextEncoder().encode('garbage\n');
        },
      });
      robot.commands$.subscribe((c) => commands.push(c));
      const cfg = serialPlantSchema.parse({
        kind: 'serial',
        port: { path: pair.daemonPath },
        framing,
        channels: [
          { id: 0, name: 'pos', states: ['x', 'theta'] },
          { id: 7, name: 'vel', states: ['theta_dot', 'x_dot'] },
        ],
        actions: ['torque', 'force'], // the wire order differs from the model's on purpose
        reopen_backoff: { min: 0.02, max: 0.2 },
        silence_timeout: 0.2,
      });
      plant = await SerialPlant.open(cfg, {
        stateNames: ['x', 'theta', 'x_dot', 'theta_dot'],
        actionNames: ['force', 'torque'],
        controlPeriod: 0.02,
        logger: silent,
        session: 0x5e55,
      });
      plant.events$.subscribe((e) => events.push(e));
      plant.observations$.subscribe((o) => observations.push(o));
      // The robot publishes both channels every 5 ms of its own clock.
      publisher = setInterval(() => {
        robotClock += 0.005;
        robot.publish({ channel: 'pos', stamp: robotClock, values: [0.5, -1.25] });
        robot.publish({ channel: 'vel', stamp: robotClock, values: [2, 0.25] });
      }, 5);
    });

    after(async () => {
      clearInterval(publisher);
      await plant?.close();
      await robot?.close();
      await pair?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the plant maps channels to state slots and the ttl defaults to two control periods', () => {
      assert.deepEqual(plant.channels, [
        { name: 'pos', slots: [0, 1] },
        { name: 'vel', slots: [3, 2] },
      ]);
      assert.equal(plant.commandTtl, 0.04);
    });

    test('the link comes up with the robot\'s first frame', async () => {
      await until(() => plant.linkUp, 'link up');
      assert.deepEqual(events[0], { kind: 'link_up', detail: pair.daemonPath });
    });

    test('robot states arrive as observations with their channel names, values and rising stamps', async () => {
      const got = await within(plant.observations$.pipe(take(10), toArray()), 'ten observations');
      for (const o of got) {
        assert.ok(o.channel === 'pos' || o.channel === 'vel');
        assert.deepEqual(Array.from(o.values), o.channel === 'pos' ? [0.5, -1.25] : [2, 0.25]);
      }
      const pos = got.filter((o) => o.channel === 'pos').map((o) => o.stamp);
      for (let i = 1; i < pos.length; i++) assert.ok(pos[i]! > pos[i - 1]!, 'stamps rise');
    });

    test('commands arrive at the robot in wire order with increasing seq, a stamp and the ttl', async () => {
      const before = commands.length;
      for (let i = 0; i < 5; i++) plant.send(Float32Array.of(i, 10 + i)); // [force, torque]
      await until(() => commands.length >= before + 5, 'five commands at the robot');
      const mine = commands.slice(before);
      assert.equal(mine.length, 5);
      assert.deepEqual(mine.map((c) => c.u), [0, 1, 2, 3, 4].map((i) => [10 + i, i]));
      for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.seq > mine[i - 1]!.seq, 'seq increases');
      for (const c of mine) {
        assert.ok(Math.abs(c.ttl - 0.04) < 1e-9);
        assert.ok(c.stamp > 0);
      }
    });

    test('heartbeat and arm reach the robot; a robot e-stop reaches the plant as an event', async () => {
      const hb = within(robot.heartbeats$, 'a heartbeat');
      plant.heartbeat();
      assert.ok((await hb) > 0);
      const arm = within(robot.arm$.pipe(take(2), toArray()), 'arm and disarm');
      plant.command('arm');
      plant.command('disarm');
      assert.deepEqual(await arm, ['arm', 'disarm']);
      const estop = within(plant.events$.pipe(filter((e) => e.kind === 'estop')), 'an e-stop event');
      robot.estop('button');
      assert.deepEqual(await estop, { kind: 'estop', source: 'button' });
    });

    test('a garbled frame is dropped, counted and reported, and the stream goes on', async () => {
      const dropped = within(plant.events$.pipe(filter((e) => e.kind === 'frame_dropped')), 'a frame_dropped event');
      garbleNext = true;
      const e = (await dropped) as Extract<PlantEvent, { kind: 'frame_dropped' }>;
      assert.deepEqual(e, { kind: 'frame_dropped', reason: framing === 'cobs' ? 'cobs' : 'json' });
      assert.ok((plant.counters.dropped[e.reason] ?? 0) >= 1);
      const n = observations.length;
      await within(plant.observations$, 'an observation after the garbage');
      assert.ok(observations.length > n);
    });

    test('pulling the cable: link_down, nothing written while down, then link_up and observations resume', async () => {
      // One command through, so that a gap in seq after the replug can only mean a frame written while down.
      const n = commands.length;
      plant.send(Float32Array.of(1, 2));
      await until(() => commands.length > n, 'the command before the pull');
      const lastSeqBefore = commands[commands.length - 1]!.seq;
      const down = within(plant.events$.pipe(filter((e) => e.kind === 'link_down')), 'link_down');
      await pair.stop();
      await down;
      assert.equal(plant.linkUp, false);
      const sentBefore = plant.counters.commandsSent;
      for (let i = 0; i < 3; i++) plant.send(Float32Array.of(99, 99));
      plant.heartbeat();
      assert.equal(plant.counters.commandsSent, sentBefore, 'no command written while down');
      assert.equal(plant.counters.droppedWhileDown >= 4, true);

      const up = within(plant.events$.pipe(filter((e) => e.kind === 'link_up')), 'link_up');
      await pair.start();
      await up;
      assert.equal(plant.counters.reopens, 1);
      const obsBefore = observations.length;
      await within(plant.observations$.pipe(take(4), toArray()), 'observations after replug');
      assert.ok(observations.length >= obsBefore + 4);

      // The robot link reopens on its own; then commands flow again, numbered on from before.
      await within(plant.observations$.pipe(filter(() => robot.linkUp)), 'the robot link back up');
      const next = within(robot.commands$, 'a command after replug');
      plant.send(Float32Array.of(7, 8));
      const c = await next;
      assert.deepEqual(c.u, [8, 7]);
      assert.equal(c.seq, lastSeqBefore + 1, 'no frame was written (numbered) while down');
      const kinds = events.filter((e) => e.kind === 'link_down' || e.kind === 'link_up').map((e) => e.kind);
      assert.deepEqual(kinds, ['link_up', 'link_down', 'link_up']);
    });
  });
}
