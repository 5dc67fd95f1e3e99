import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readRobotRecord } from '../../sim/robot-record.js';
import { readTransitionLog } from '../../src/log/transition-log-reader.js';
import { startBroker } from '../io/mqtt/broker.js';
import { findSocat, SocatPair } from '../io/serial/socat-pair.js';
import { assertEveryCommandLogged, commandsOf, Rig, testConfig } from './harness.js';

// Hardware in the loop: the daemon and the virtual robot as separate processes, over a real
// Mosquitto broker and a real pty pair, with the success criterion of the simulation tests.
const dir = mkdtempSync(join(tmpdir(), 'mpcd-hil-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('over MQTT (a real Mosquitto) the daemon swings the virtual cart-pole up and holds it', async () => {
  const broker = await startBroker();
  const rig = new Rig(dir);
  try {
    const config = testConfig(dir, 'mqtt', 'hil-mqtt');
    const record = join(dir, 'mqtt-robot.jsonl');
    const log = join(dir, 'mqtt.mcap');
    const robot = await rig.robot(config, ['--mqtt', broker.url], record);
    const { summary } = await rig.daemon(config, ['--mqtt', broker.url], log);
    const robotSummary = await rig.stopRobot(robot);
    assert.equal(summary.episodes.length, 1);
    assert.ok(summary.episodes[0]!.success, `not swung up and held: ${JSON.stringify(summary.episodes[0])}, safety ${JSON.stringify(summary.safety)}`);
    assert.equal(summary.link!.frames_dropped_total, 0);

    const records = readRobotRecord(record);
    const { transitions, torn } = readTransitionLog(log);
    assert.equal(torn, false);
    assert.equal(transitions.length, summary.episodes[0]!.transitions);
    // Nothing lost either way on a clean link: every command sent arrived, and every one is logged.
    const received = assertEveryCommandLogged(transitions, records, true);
    assert.equal(received, transitions.length);
    assert.equal(robotSummary.commands, received);
    // The robot applied what the daemon planned (not just held its safe action).
    const applied = commandsOf(records).filter((c) => c.applied).length;
    assert.ok(applied >= 0.9 * received, `applied ${applied} of ${received}`);
    // One episode: armed (the daemon repeats its arm when it sees the robot come online), then disarmed; one reset at boot, one at the arm.
    const arming = records.filter((r) => r.ev === 'arm' || r.ev === 'disarm').map((r) => r.ev);
    assert.deepEqual(arming.filter((ev, i) => ev !== arming[i - 1]), ['arm', 'disarm']);
    assert.equal(records.filter((r) => r.ev === 'reset').length, 2);
  } finally {
    await rig.killAll();
    await broker.stop();
  }
});

const socat = findSocat();

test('over a pty pair (socat, COBS+CRC framing) the daemon swings the virtual cart-pole up and holds it', { skip: socat === null ? 'socat is not installed' : false }, async () => {
  const pair = new SocatPair(socat!, join(dir, 'robot-pty'), join(dir, 'daemon-pty'));
  await pair.start();
  const rig = new Rig(dir);
  try {
    const config = testConfig(dir, 'serial', 'hil-serial');
    const record = join(dir, 'serial-robot.jsonl');
    const log = join(dir, 'serial.mcap');
    const robot = await rig.robot(config, ['--serial', pair.robotPath], record);
    const { summary } = await rig.daemon(config, ['--serial', pair.daemonPath], log);
    const robotSummary = await rig.stopRobot(robot);
    assert.ok(summary.episodes[0]!.success, `not swung up and held: ${JSON.stringify(summary.episodes[0])}, safety ${JSON.stringify(summary.safety)}`);
    assert.equal(summary.link!.frames_dropped_total, 0);

    const records = readRobotRecord(record);
    const { transitions } = readTransitionLog(log);
    assert.equal(transitions.length, summary.episodes[0]!.transitions);
    const received = assertEveryCommandLogged(transitions, records, false);
    assert.equal(received, transitions.length);
    assert.equal(robotSummary.link_dropped, 0);
    const applied = commandsOf(records).filter((c) => c.applied).length;
    assert.ok(applied >= 0.9 * received, `applied ${applied} of ${received}`);
  } finally {
    await rig.killAll();
    await pair.stop();
  }
});
