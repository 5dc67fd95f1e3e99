import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { parse } from 'yaml';
import { readRobotRecord } from '../../sim/robot-record.js';
import { readTransitionLog } from '../../src/log/transition-log-reader.js';
import type { LinkCounts } from '../../src/loop/link-stats.js';
import { startBroker, type TestBroker } from '../io/mqtt/broker.js';
import { findSocat, SocatPair } from '../io/serial/socat-pair.js';
import { Rig, testConfig, type CmdRecord, type RobotSummary, type RunSummary } from './harness.js';

/**
 * The robot's clock and session faults in the loop: the daemon (`mpcd run`, 4 episodes) and the
 * virtual robot (`mpcd sim-robot --fault ...`) as separate processes, over a real broker and a
 * real pty pair. Each fault is timed 3 s into episode 2; episodes 3 and 4 must then run their
 * full length and swing the pole up, and the run summary's link counters must show the fault,
 * counted by reason. Planning p99 of the flood run is printed beside the run without a fault
 * (host-dependent: reported, not asserted).
 */

type Transport = 'mqtt' | 'serial';

interface FaultRun {
  summary: RunSummary & { latency_ms: { p50: number; p99: number; max: number }; link: LinkCounts };
  robot: RobotSummary & { clockSteps: number; reboots: number };
  record: string;
  /** The daemon's transition log. */
  log: string;
}

interface Times {
  episodeSeconds: number;
  period: number;
  /** s after the first arm: 3 s into episode 2. */
  faultAt: number;
}

const EPISODES = 4;
const dir = mkdtempSync(join(tmpdir(), 'mpcd-hil-clock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The test config for `transport` and the times that follow from its episode length. */
function setup(transport: Transport, name: string): { config: string; times: Times } {
  const config = testConfig(dir, transport, name);
  const c = parse(readFileSync(config, 'utf8')) as { scenario: { episode_seconds: number }; control: { period: number } };
  const episodeSeconds = c.scenario.episode_seconds;
  // Episode 2 starts one episode (and a fraction of a second of re-arming) after the first arm.
  return { config, times: { episodeSeconds, period: c.control.period, faultAt: episodeSeconds + 3 } };
}

/** The wire of one run, as the robot's and the daemon's command-line arguments. */
interface Wire {
  readonly robot: string[];
  readonly daemon: string[];
  close(): Promise<void>;
}

/** One 4-episode run of the daemon against the virtual robot with `faults`, on a wire of its own. */
async function runWith(transport: Transport, openWire: (name: string) => Promise<Wire>, name: string, faults: readonly string[]): Promise<FaultRun> {
  const { config } = setup(transport, name);
  const rig = new Rig(dir);
  const record = join(dir, `${name}-robot.jsonl`);
  const log = join(dir, `${name}.mcap`);
  const wire = await openWire(name);
  try {
    const robotChild = await rig.robot(config, wire.robot, record, faults);
    const { summary } = await rig.daemon(config, wire.daemon, log, EPISODES);
    const robot = (await rig.stopRobot(robotChild)) as FaultRun['robot'];
    return { summary: summary as FaultRun['summary'], robot, record, log };
  } finally {
    await rig.killAll();
    await wire.close();
  }
}

/**
 * Episodes 3 and 4, after the fault: full length, swung up and held. Full length: the episode's
 * transitions in the daemon's log span it and are most of its ticks. A busy host (two real-time
 * processes and whatever else shares a small machine) drops ticks here and there, the last ones
 * included, and may find a channel stale for a tick; an episode cut short, or one the robot sat
 * out disarmed, falls far short of either bound.
 */
/**
 * A run whose episodes after the fault all run their length and swing up (assertRecovered). A
 * real-time swing-up on a busy 2-core host can miss now and then with no fault of the link's (a
 * loaded CI runner): such a run is repeated once, on a wire of its own, and the first miss is
 * printed; two misses in a row fail.
 */
async function recoveredRun(transport: Transport, openWire: (name: string) => Promise<Wire>, name: string, faults: readonly string[], times: Times): Promise<FaultRun> {
  const first = await runWith(transport, openWire, name, faults);
  try {
    assertRecovered(first, times);
    return first;
  } catch (err) {
    console.log(`# ${name}: repeated once after: ${err instanceof Error ? err.message : String(err)}`);
  }
  const second = await runWith(transport, openWire, `${name}-again`, faults);
  assertRecovered(second, times);
  return second;
}

function assertRecovered(run: FaultRun, times: Times): void {
  const { episodes, safety } = run.summary;
  assert.equal(episodes.length, EPISODES);
  const { transitions } = readTransitionLog(run.log);
  for (const e of episodes.slice(2)) {
    const ts = transitions.filter((tr) => tr.episode === e.episode).map((tr) => tr.t);
    const span = ts.length === 0 ? 0 : Math.max(...ts) - Math.min(...ts);
    assert.ok(span >= 0.95 * times.episodeSeconds, `episode ${e.episode + 1} spans ${span.toFixed(3)} s of ${times.episodeSeconds} s: ${JSON.stringify(episodes)}`);
    assert.ok(e.steps >= 0.8 * (times.episodeSeconds / times.period), `episode ${e.episode + 1}: ${e.steps} transitions: ${JSON.stringify(episodes)}`);
    assert.ok(e.success, `episode ${e.episode + 1} did not swing up and hold: ${JSON.stringify(e)}, safety ${JSON.stringify(safety)}, link ${JSON.stringify(run.summary.link)}`);
  }
}

/** The fault as the robot recorded it: on (and off, for a window) inside episode 2, between the resets that start episodes 2 and 3. */
function assertFaultInEpisode2(run: FaultRun, spec: string): void {
  const records = readRobotRecord(run.record);
  // The first reset is the robot's start; each arm after a disarm resets it for an episode.
  const episodeStarts = records.filter((r) => r.ev === 'reset').slice(1).map((r) => r.wall);
  assert.equal(episodeStarts.length, EPISODES);
  const windows = records.filter((r) => r.ev === 'fault' && r.spec === spec).map((r) => r.wall);
  assert.ok(windows.length > 0, `the robot never turned ${spec} on`);
  for (const wall of windows) assert.ok(wall > episodeStarts[1]! && wall < episodeStarts[2]!, `${spec} at ${wall}, not inside episode 2 (${episodeStarts.join(', ')})`);
}

function hilSuite(transport: Transport, wire: (name: string) => Promise<Wire>, skip: string | false): void {
  describe(`clock and session faults over ${transport}, in the loop`, { skip }, () => {
    let clean: FaultRun | undefined;
    const { times } = setup(transport, `${transport}-times`);
    const { faultAt } = times;
    const name = (fault: string): string => `${transport}-${fault}`;

    test('no fault: the baseline run', async (t: TestContext) => {
      clean = await runWith(transport, wire, name('clean'), []);
      assertRecovered(clean, times);
      assert.equal(clean.summary.link.frames_dropped_total, 0);
      assert.equal(clean.summary.link.robot_restarts, 0);
      assert.equal(clean.summary.link.clock_steps, 0);
      t.diagnostic(`${transport} no fault: planning p99 ${clean.summary.latency_ms.p99} ms, readings superseded ${clean.summary.link.readings_superseded}`);
    });

    test(`garbage_stamp/pole:1e6@${faultAt}: the one reading 10^6 s ahead is dropped as stamp_in_future`, async () => {
      const spec = `garbage_stamp/pole:1e6@${faultAt}`;
      const run = await recoveredRun(transport, wire, name('garbage-stamp'), [spec], times);
      assertFaultInEpisode2(run, spec);
      assert.equal(run.robot.faults['garbage_stamp'], 1);
      assert.deepEqual(run.summary.link.readings_dropped, { stamp_in_future: 1 }, JSON.stringify(run.summary.link));
      assert.equal(run.summary.link.clock_steps, 0, 'one bad stamp is not a clock step');
      assert.equal(run.summary.link.robot_restarts, 0);
    });

    test(`clock_step:-5@${faultAt}: the robot's clock steps back 5 s for good; a clock_step of -5 s on each channel, and the robot still obeys`, async () => {
      const spec = `clock_step:-5@${faultAt}`;
      const run = await recoveredRun(transport, wire, name('clock-step'), [spec], times);
      assertFaultInEpisode2(run, spec);
      assert.equal(run.robot.clockSteps, 1);
      const link = run.summary.link;
      assert.equal(link.clock_steps, 2, `one per channel: ${JSON.stringify(link)}`);
      // Measured from receive times: a busy host's latency shows in it.
      assert.ok(Math.abs(link.largest_clock_step_s + 5) < 0.5, `largest clock step ${link.largest_clock_step_s} s`);
      // The readings before the re-base are dropped as not_newer, and only those.
      assert.deepEqual(Object.keys(link.readings_dropped), ['not_newer'], JSON.stringify(link.readings_dropped));
      assert.equal(link.robot_restarts, 0);
      // The robot judged the daemon's commands on its stepped clock and went on applying them. A
      // command that sat in a busy host's queue for longer than its ttl is refused at any time;
      // a gate still on the old clock (a forward step) would refuse every one.
      const records = readRobotRecord(run.record);
      const stepWall = records.find((r) => r.ev === 'fault' && r.spec === spec && r.active)!.wall;
      const after = records.filter((r): r is CmdRecord => r.ev === 'cmd' && r.wall >= stepWall && r.wall < stepWall + 2000);
      const applied = after.filter((c) => c.applied).length;
      assert.ok(after.length >= 50 && applied >= 0.6 * after.length, `in the 2 s after the step the robot applied ${applied} of ${after.length} commands`);
    });

    test(`reboot:1.0@${faultAt}: the robot is gone for 1 s and boots with a new session; robot_restart, disarmed until the next episode`, async () => {
      const spec = `reboot:1.0@${faultAt}`;
      const run = await recoveredRun(transport, wire, name('reboot'), [spec], times);
      assertFaultInEpisode2(run, spec);
      assert.equal(run.robot.reboots, 1);
      const link = run.summary.link;
      assert.equal(link.robot_restarts, 1, JSON.stringify(link));
      // The new session is judged afresh. A first reading of it held up on the fresh connection
      // makes the next few look early (stamp_in_future) until the bound or a re-base catches up.
      const dropped = Object.values(link.readings_dropped).reduce((a, b) => a + b, 0);
      assert.ok(dropped <= 20, `${dropped} readings dropped for their stamps after the boot: ${JSON.stringify(link.readings_dropped)}`);
      assert.ok(link.link_downs >= 1, `the robot's silence (MQTT: its last will) is a link_down: ${JSON.stringify(link)}`);
      assert.equal(run.summary.safety.faults['robot_restart'], 1, JSON.stringify(run.summary.safety));
      // After the boot the robot was armed again only by the next episode's arm (which resets
      // it): from the boot to that arm, no arm reached it and it applied no command.
      const records = readRobotRecord(run.record);
      const booted = records.findIndex((r) => r.ev === 'fault' && r.spec === spec && !r.active);
      assert.ok(booted > 0, 'the robot never came back');
      const episode3 = booted + records.slice(booted).findIndex((r) => r.ev === 'reset');
      assert.equal(records[episode3 - 1]?.ev, 'arm', 'episode 3 starts on an arm');
      const meanwhile = records.slice(booted, episode3 - 1);
      assert.deepEqual(meanwhile.filter((r) => r.ev === 'arm'), [], 'the daemon armed the robot that came up disarmed');
      assert.deepEqual(meanwhile.filter((r) => r.ev === 'cmd' && r.applied), [], 'the rebooted robot applied a command before it was armed');
      assert.ok(meanwhile.some((r) => r.ev === 'disarm'), 'the daemon told the rebooted robot disarm');
    });

    test(`flood:10000@${faultAt}+1: 10 kHz of valid readings for 1 s; newest wins, the rest counted as superseded`, async (t: TestContext) => {
      const spec = `flood:10000@${faultAt}+1`;
      const run = await recoveredRun(transport, wire, name('flood'), [spec], times);
      assertFaultInEpisode2(run, spec);
      const extra = run.robot.faults['flood'] ?? 0;
      assert.ok(extra > 9000, `the robot sent ${extra} flood readings`);
      const link = run.summary.link;
      assert.deepEqual(link.readings_dropped, {}, 'valid, advancing stamps: none dropped for its stamp');
      assert.equal(link.frames_dropped_total, 0);
      // Beyond what the clean run's normal stream (two readings per channel per tick) superseded.
      const baseline = clean?.summary.link.readings_superseded ?? 0;
      assert.ok(link.readings_superseded - baseline >= 0.9 * extra, `superseded ${link.readings_superseded} (clean run ${baseline}) for ${extra} flood readings`);
      const p99 = (r: FaultRun | undefined): string => (r === undefined ? 'n/a' : `${r.summary.latency_ms.p99} ms`);
      t.diagnostic(`${transport} planning p99: flood ${p99(run)}, no fault ${p99(clean)} (readings superseded: ${link.readings_superseded} and ${baseline})`);
    });
  });
}

// A broker and a pty pair per run: no retained presence or half-read frame is left over from the run before.
hilSuite(
  'mqtt',
  async () => {
    const broker: TestBroker = await startBroker();
    return { robot: ['--mqtt', broker.url], daemon: ['--mqtt', broker.url], close: () => broker.stop() };
  },
  false,
);

const socat = findSocat();
hilSuite(
  'serial',
  async (name) => {
    const pair = new SocatPair(socat!, join(dir, `${name}-robot-pty`), join(dir, `${name}-daemon-pty`));
    await pair.start();
    return { robot: ['--serial', pair.robotPath], daemon: ['--serial', pair.daemonPath], close: () => pair.stop() };
  },
  socat === null ? 'socat is not installed' : false,
);
