import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readRobotRecord } from '../../sim/robot-record.js';
import { readTransitionLog } from '../../src/log/transition-log-reader.js';
import { startBroker } from '../io/mqtt/broker.js';
import { assertEveryCommandLogged, assertSafeWithinOnePeriod, commandsOf, firstArm, Rig, testConfig } from '../hil/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'mpcd-fault-stale-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const PERIOD = 0.02;

test('commands queued while the broker is frozen arrive stale after it thaws, and none is applied', async (t) => {
  const broker = await startBroker();
  if (broker.pause === undefined || broker.resume === undefined) {
    await broker.stop();
    t.skip('freezing needs Mosquitto (the aedes fallback cannot be paused)');
    return;
  }
  const rig = new Rig(dir);
  try {
    // The robot stays armed through the freeze (a long link timeout), so only the CommandGate stands between it and the queued commands.
    const config = testConfig(dir, 'mqtt', 'stale', (set) => {
      set(['scenario', 'episode_seconds'], 6);
      set(['virtual_robot', 'link_timeout'], 5);
    });
    const record = join(dir, 'robot.jsonl');
    const log = join(dir, 'run.mcap');
    const robot = await rig.robot(config, ['--mqtt', broker.url], record);
    const daemon = rig.daemon(config, ['--mqtt', broker.url], log);
    await firstArm(record);
    await sleep(2000);
    // Frozen: the sockets stay open, so the daemon's commands queue up in them (it cannot tell).
    broker.pause();
    await sleep(800);
    const resumedAt = Date.now();
    broker.resume();
    const { summary } = await daemon;
    await rig.stopRobot(robot);

    const records = readRobotRecord(record);
    const cmds = commandsOf(records);
    const ttl = cmds[0]!.ttl;
    // The queued commands did arrive, after the thaw, older than their ttl...
    const queued = cmds.filter((c) => c.wall >= resumedAt && c.age > ttl);
    assert.ok(queued.length >= 10, `only ${queued.length} stale commands arrived after the thaw`);
    // ...and not one was applied: the gate called each of them stale.
    for (const c of queued) assert.deepEqual([c.verdict, c.applied], ['stale', false], `seq ${c.seq}`);
    for (const c of cmds.filter((c) => c.applied)) assert.ok(c.age <= ttl + 1e-9, `seq ${c.seq} applied at age ${c.age} s > ttl ${ttl} s`);
    // Meanwhile the robot held its safe action from one period after its last command expired,
    assertSafeWithinOnePeriod(records, resumedAt, PERIOD);
    // and fresh commands after the thaw drive it again.
    const fresh = cmds.filter((c) => c.wall >= resumedAt && c.applied);
    assert.ok(fresh.length >= 20, `only ${fresh.length} commands applied after the thaw`);
    assert.ok(summary.safety.faults['sensor_stale:cart']! >= 1, JSON.stringify(summary.safety));

    const { transitions } = readTransitionLog(log);
    assertEveryCommandLogged(transitions, records, true);
  } finally {
    broker.resume?.();
    await rig.killAll();
    await broker.stop();
  }
});
