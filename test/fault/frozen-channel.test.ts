import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readRobotRecord } from '../../sim/robot-record.js';
import { readTransitionLog } from '../../src/log/transition-log-reader.js';
import { TransitionFlags } from '../../src/log/transition-schema.js';
import { findSocat, SocatPair } from '../io/serial/socat-pair.js';
import { assertEveryCommandLogged, commandsOf, Rig, testConfig } from '../hil/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'mpcd-fault-frozen-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const socat = findSocat();
const MAX_AGE = 0.1; // safety.max_age of the pole channel in config/cartpole-serial.yaml

test('a frozen sensor channel (its last reading repeated): sensor_stale, and the robot receives safe actions', { skip: socat === null ? 'socat is not installed' : false }, async () => {
  const pair = new SocatPair(socat!, join(dir, 'robot-pty'), join(dir, 'daemon-pty'));
  await pair.start();
  const rig = new Rig(dir);
  try {
    const config = testConfig(dir, 'serial', 'frozen', (set) => set(['scenario', 'episode_seconds'], 5));
    const record = join(dir, 'robot.jsonl');
    const log = join(dir, 'run.mcap');
    const robot = await rig.robot(config, ['--serial', pair.robotPath], record, ['freeze/pole:1.0@2.0']);
    const { summary } = await rig.daemon(config, ['--serial', pair.daemonPath], log);
    const robotSummary = await rig.stopRobot(robot);

    assert.ok(robotSummary.faults['freeze']! > 0, 'the fault never fired');
    assert.ok(summary.safety.faults['sensor_stale:pole']! >= 1, JSON.stringify(summary.safety));
    assert.equal(summary.safety.faults['sensor_stale:cart'], undefined, 'only the pole channel froze');
    assert.ok(summary.link!.readings_not_newer >= 10, JSON.stringify(summary.link));

    const records = readRobotRecord(record);
    const on = records.find((r) => r.ev === 'fault' && r.active);
    const off = records.find((r) => r.ev === 'fault' && !r.active);
    assert.ok(on !== undefined && off !== undefined, 'no freeze window in the record');
    // Once the channel is older than its max age (plus a tick and the trip over the wire), every command is the safe action.
    const ready = records.find((r) => r.ev === 'ready');
    assert.ok(ready !== undefined && ready.ev === 'ready');
    const safeAction = ready.safe_action;
    const during = commandsOf(records).filter((c) => c.wall >= on.wall + (MAX_AGE + 0.2) * 1000 && c.wall <= off.wall);
    assert.ok(during.length >= 10, `only ${during.length} commands during the freeze`);
    for (const c of during) assert.deepEqual(c.u, safeAction, `seq ${c.seq} during the freeze`);

    const { transitions } = readTransitionLog(log);
    const flagged = transitions.filter((tr) => (tr.flags & TransitionFlags.stale_state) !== 0 && (tr.flags & TransitionFlags.safe_action_sent) !== 0);
    assert.ok(flagged.length >= 10, `${flagged.length} transitions flagged stale + safe`);
    assertEveryCommandLogged(transitions, records, false);
  } finally {
    await rig.killAll();
    await pair.stop();
  }
});
