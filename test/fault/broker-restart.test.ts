import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readRobotRecord } from '../../sim/robot-record.js';
import { readTransitionLog } from '../../src/log/transition-log-reader.js';
import { startBroker } from '../io/mqtt/broker.js';
import { appliedAfter, assertEveryCommandLogged, assertSafeWithinOnePeriod, firstArm, Rig, testConfig } from '../hil/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'mpcd-fault-broker-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const PERIOD = 0.02;

test('the broker killed and restarted mid-run: the robot goes safe within a period of its last command expiring, and is driven again after', async () => {
  const broker = await startBroker();
  const rig = new Rig(dir);
  try {
    const config = testConfig(dir, 'mqtt', 'broker-restart', (set) => set(['scenario', 'episode_seconds'], 6));
    const record = join(dir, 'robot.jsonl');
    const log = join(dir, 'run.mcap');
    const robot = await rig.robot(config, ['--mqtt', broker.url], record);
    const daemon = rig.daemon(config, ['--mqtt', broker.url], log);
    await firstArm(record);
    await sleep(2000);
    await broker.kill();
    await sleep(1000);
    await broker.start();
    const { summary } = await daemon;
    await rig.stopRobot(robot);

    const records = readRobotRecord(record);
    // The robot noticed the daemon gone (no frame for link_timeout) and disarmed itself.
    const lost = records.find((r) => r.ev === 'link_timeout');
    assert.ok(lost !== undefined, 'the robot never noticed the link go');
    assertSafeWithinOnePeriod(records, lost.wall, PERIOD);
    // Recovery: the daemon re-armed the robot after reconnecting, and drives it again.
    const again = appliedAfter(records, lost.wall, 'arm');
    assert.ok(again.length >= 20, `only ${again.length} commands applied after the reconnect`);
    assert.ok(summary.link!.link_downs >= 1 && summary.safety.faults['link_down']! >= 1, JSON.stringify(summary));

    const { transitions } = readTransitionLog(log);
    assertEveryCommandLogged(transitions, records, true);
  } finally {
    await rig.killAll();
    await broker.stop();
  }
});
