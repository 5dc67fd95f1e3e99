import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import type { ControlStatus } from '../../src/io/control-status.js';
import { resolveMqttLayout } from '../../src/io/mqtt/mqtt-layout.js';
import { readTransitionLog } from '../../src/log/transition-log-reader.js';
import { startBroker } from '../io/mqtt/broker.js';
import { rawClient } from '../io/mqtt/fixtures.js';
import { Rig, testConfig, waitFor } from './harness.js';

// Goals at run time, as a user does it: the daemon balances the virtual cart-pole (separate
// processes, a real Mosquitto), and while it runs `mpcd goal` moves the balance point along the
// rail; a goal out of bounds is refused and changes nothing. The daemon's control status topic
// shows it working: the goal in use, the state, the plan.
const dir = mkdtempSync(join(tmpdir(), 'mpcd-goals-hil-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('over MQTT, `mpcd goal` moves the balanced cart-pole to a new point on the rail; a goal out of bounds is refused', async () => {
  const broker = await startBroker();
  const rig = new Rig(dir);
  const watcher = await rawClient(broker.url);
  const statuses: ControlStatus[] = [];
  watcher.on('message', (_t, payload) => statuses.push(JSON.parse(payload.toString()) as ControlStatus));
  try {
    const config = testConfig(dir, 'mqtt', 'goals', (set) => set(['scenario', 'episode_seconds'], 24));
    const c = (await loadConfig(config)).config;
    assert.ok(c.plant.kind === 'mqtt');
    const { topics } = resolveMqttLayout(c.plant, ['x', 'theta', 'x_dot', 'theta_dot']);
    await watcher.subscribeAsync(topics.controlStatus, { qos: 0 });
    const record = join(dir, 'robot.jsonl');
    const log = join(dir, 'goals.mcap');
    const robot = await rig.robot(config, ['--mqtt', broker.url], record);
    const daemon = rig.spawn(['run', config, '--mqtt', broker.url, '--episodes', '1', '--json', '--log', log]);
    // 5 s into the 24 s episode, then the goal: a CLI takes seconds to start on a loaded machine,
    // and the cart must have time to get there and hold before the episode's end.
    await waitFor(() => statuses.some((s) => s.tick >= 250), 60_000, () => `no status past tick 250: ${daemon.stderr.slice(-2000)}`, daemon);
    // --wait is an upper bound for a loaded machine, not a timing check.
    const sent = rig.spawn(['goal', config, 'x_goal=0.3', '--mqtt', broker.url, '--wait', '20', '--json']);
    assert.equal(await sent.exited, 0, `mpcd goal: ${sent.stdout} ${sent.stderr}`);
    const answer = JSON.parse(sent.stdout.trim().split('\n').at(-1)!) as { report: { verdict: string; params: Record<string, number> } };
    assert.equal(answer.report.verdict, 'accepted');
    assert.deepEqual(answer.report.params, { x_goal: 0.3 });
    const refused = rig.spawn(['goal', config, 'x_goal=5', '--mqtt', broker.url, '--json']);
    assert.notEqual(await refused.exited, 0, 'a goal out of bounds fails before it is sent');
    assert.match(refused.stderr, /x_goal = 5 is outside its bounds \[-0.8, 0.8\]/);
    // A goal garbled on the wire: counted, answered, nothing changed.
    await watcher.publishAsync(topics.goal, '{"seq": 1, "params": {"x_goal": -0.7}', { qos: 1 });
    const code = await daemon.exited;
    assert.equal(code, 0, `mpcd run exited ${code}: ${daemon.stderr.slice(-3000)}`);
    await rig.stopRobot(robot);
    const summary = JSON.parse(daemon.stdout.trim().split('\n').at(-1)!) as {
      episodes: { success: boolean }[];
      goals_received: { accepted: number; rejected: Record<string, number> };
    };
    assert.deepEqual(summary.goals_received, { accepted: 1, rejected: { malformed: 1, non_finite: 0, duplicate_or_old: 0, stale: 0, refused: 0 } });
    assert.ok(summary.episodes[0]!.success, 'held upright at the new goal (the success condition is relative to x_goal)');
    const last = statuses.at(-1)!;
    assert.deepEqual(last.goal, { x_goal: 0.3 });
    assert.ok(Math.abs(last.state['x']! - 0.3) < 0.1, `the cart is at ${last.state['x']}, the goal at 0.3`);
    assert.equal(last.plan.states.length, 11);
    assert.ok('upright' in last.costs);
    const goalEvents = readTransitionLog(log).events.filter((e) => e.kind === 'goal');
    assert.equal(goalEvents.length, 1);
    assert.deepEqual((goalEvents[0]!.detail as { params: unknown }).params, { x_goal: 0.3 });
  } finally {
    await watcher.endAsync();
    await rig.killAll();
    await broker.stop();
  }
});
