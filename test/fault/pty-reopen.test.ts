import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readRobotRecord } from '../../sim/robot-record.js';
import { readTransitionLog } from '../../src/log/transition-log-reader.js';
import { findSocat, SocatPair } from '../io/serial/socat-pair.js';
import { appliedAfter, assertEveryCommandLogged, assertSafeWithinOnePeriod, firstArm, Rig, testConfig } from '../hil/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'mpcd-fault-pty-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const PERIOD = 0.02;
const socat = findSocat();

test('the pty closed and reopened mid-run (the cable pulled and plugged back): link_down, the robot safe, then driven again', { skip: socat === null ? 'socat is not installed' : false }, async () => {
  const pair = new SocatPair(socat!, join(dir, 'robot-pty'), join(dir, 'daemon-pty'));
  await pair.start();
  const rig = new Rig(dir);
  try {
    const config = testConfig(dir, 'serial', 'pty-reopen', (set) => set(['scenario', 'episode_seconds'], 6));
    const record = join(dir, 'robot.jsonl');
    const log = join(dir, 'run.mcap');
    const robot = await rig.robot(config, ['--serial', pair.robotPath], record);
    const daemon = rig.daemon(config, ['--serial', pair.daemonPath], log);
    await firstArm(record);
    await sleep(2000);
    await pair.stop();
    await sleep(1000);
    await pair.start();
    const { summary } = await daemon;
    await rig.stopRobot(robot);

    const link = summary.link!;
    assert.ok(link.link_downs >= 1 && link.link_ups >= 2, `link: ${JSON.stringify(link)}`);
    assert.ok(summary.safety.faults['link_down']! >= 1, JSON.stringify(summary.safety));
    const records = readRobotRecord(record);
    const lost = records.find((r) => r.ev === 'link_timeout');
    assert.ok(lost !== undefined, 'the robot never noticed the link go');
    assertSafeWithinOnePeriod(records, lost.wall, PERIOD);
    const again = appliedAfter(records, lost.wall, 'arm');
    assert.ok(again.length >= 20, `only ${again.length} commands applied after the port came back`);

    const { transitions } = readTransitionLog(log);
    assertEveryCommandLogged(transitions, records, false);
  } finally {
    await rig.killAll();
    await pair.stop();
  }
});
