import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readRobotRecord } from '../../sim/robot-record.js';
import { readTransitionLog } from '../../src/log/transition-log-reader.js';
import { findSocat, SocatPair } from '../io/serial/socat-pair.js';
import { assertEveryCommandLogged, commandsOf, Rig, testConfig } from '../hil/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'mpcd-fault-corrupt-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const socat = findSocat();

test('10% of the robot\'s frames corrupted on the wire: counted, dropped, and control goes on', { skip: socat === null ? 'socat is not installed' : false }, async () => {
  const pair = new SocatPair(socat!, join(dir, 'robot-pty'), join(dir, 'daemon-pty'));
  await pair.start();
  const rig = new Rig(dir);
  try {
    const config = testConfig(dir, 'serial', 'corrupt');
    const record = join(dir, 'robot.jsonl');
    const log = join(dir, 'run.mcap');
    // From shortly after the first arm, so that every corrupt frame reaches an open port.
    const robot = await rig.robot(config, ['--serial', pair.robotPath], record, ['corrupt:0.1@0.5']);
    const { summary } = await rig.daemon(config, ['--serial', pair.daemonPath], log);
    const robotSummary = await rig.stopRobot(robot);

    const ep = summary.episodes[0]!;
    const link = summary.link!;
    assert.ok(robotSummary.faults['corrupt']! > 0, 'the fault never fired');
    // Two channels at twice the control rate: about 4 frames a period, 10% of them corrupt; CRC-16 catches every one-bit flip.
    assert.ok(link.frames_dropped_total >= 0.05 * 4 * ep.steps, `only ${link.frames_dropped_total} frames dropped: ${JSON.stringify(link.frames_dropped)}`);
    for (const reason of Object.keys(link.frames_dropped)) assert.ok(['crc', 'cobs', 'too_short', 'bad_length', 'unknown_type', 'bad_value', 'unknown_channel', 'duplicate_or_old'].includes(reason), reason);
    // Control goes on: every tick served, the plan's action sent, the robot applying it, the task done.
    // (A busy machine may drop a tick to a late plan now and then: those are overruns, not lost frames.)
    const context = JSON.stringify({ ep, safety: summary.safety });
    assert.ok(ep.steps >= 0.8 * 400, `only ${ep.steps} ticks served: ${context}`);
    assert.ok(summary.safety.faults['sensor_stale:cart'] === undefined && summary.safety.faults['sensor_stale:pole'] === undefined, `a channel went stale: ${context}`);
    assert.ok(summary.safety.safe_ticks <= 0.1 * ep.steps, context);
    const records = readRobotRecord(record);
    const applied = commandsOf(records).filter((c) => c.applied).length;
    assert.ok(applied >= 0.9 * ep.steps, `the robot applied ${applied} of ${ep.steps}`);
    assert.ok(ep.success, `not swung up and held: ${context}`);

    const { transitions } = readTransitionLog(log);
    assertEveryCommandLogged(transitions, records, false);
  } finally {
    await rig.killAll();
    await pair.stop();
  }
});
