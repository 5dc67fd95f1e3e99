import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Subject, VirtualTimeScheduler, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { FaultInjector } from '../../sim/fault-injector.js';
import { parseFaultSpec } from '../../sim/fault-spec.js';
import { MujocoPlant } from '../../sim/mujoco-plant.js';
import { RobotClock } from '../../sim/robot-clock.js';
import type { RobotLink } from '../../sim/robot-link.js';
import { VirtualRobot } from '../../sim/virtual-robot.js';
import { Rng } from '../../src/core/rng.js';
import type { CommandEnvelope } from '../../src/io/command-envelope.js';
import type { ArmCommand, Observation } from '../../src/io/plant.js';

/**
 * The robot's own faults (clock_step, reboot) on the virtual robot, in virtual time: the MuJoCo
 * cart-pole running free at 100 Hz behind an in-memory link, and a daemon that sends a
 * heartbeat and a command (ttl 40 ms) every 20 ms, stamped by its own clock (80 s ahead of the
 * robot's), arming the robot at 50 ms. What is asserted is what the robot puts on the wire (its
 * readings' stamps, its power and session changes) and what it drives (every plant.send).
 */

const cartpoleXml = join(fileURLToPath(new URL('../../../sim/models/', import.meta.url)), 'cartpole.xml');
const ARM_MS = 50;
const TICK_MS = 20;
const TTL = 0.04;
const COMMAND_U = 0.5;
const SAFE_U = 0.3; // not 0, so that the safe action and a limp robot (0) tell apart
const DAEMON_AHEAD_S = 100;
const ROBOT_UP_S = 20; // the robot's clock at host time 0: up for a while, so that a step back keeps it above 0

/** The robot's side of a wire, in memory: what it published, when (host ms), and its power cycles. */
class MemoryLink implements RobotLink {
  readonly commands = new Subject<CommandEnvelope>();
  readonly arm = new Subject<ArmCommand>();
  readonly heartbeats = new Subject<number>();
  readonly commands$ = this.commands.asObservable();
  readonly arm$ = this.arm.asObservable();
  readonly heartbeats$ = this.heartbeats.asObservable();
  readonly dropped = { count: 0 };
  readonly published: { at: number; obs: Observation }[] = [];
  readonly power: { at: number; on: boolean }[] = [];
  constructor(private readonly scheduler: VirtualTimeScheduler) {}
  publish(obs: Observation): void {
    this.published.push({ at: this.scheduler.now(), obs });
  }
  estop(): void {}
  powerOff(): void {
    this.power.push({ at: this.scheduler.now(), on: false });
  }
  async powerOn(): Promise<void> {
    this.power.push({ at: this.scheduler.now(), on: true });
  }
  async close(): Promise<void> {}
}

interface Outcome {
  robot: VirtualRobot;
  link: MemoryLink;
  /** Every action the robot put on the plant: host ms and u. */
  drive: { at: number; u: number }[];
}

/** The plant's timers firing `lateMs` late, as on a busy host: it catches up, emitting periods that ended a while ago. */
function lateTimers(scheduler: VirtualTimeScheduler, lateMs: number): SchedulerLike {
  return {
    now: () => scheduler.now(),
    schedule: <T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription => scheduler.schedule(work, delay + lateMs, state),
  };
}

/**
 * Runs the robot with `specs` until `endMs` (host); the daemon sends until `stopMs`, arms at
 * ARM_MS and at each of `armsMs`; the plant's timers fire `lateMs` late.
 */
async function run(specs: readonly string[], opts: { endMs: number; stopMs: number; armsMs?: readonly number[]; lateMs?: number }): Promise<Outcome> {
  const scheduler = new VirtualTimeScheduler(undefined, opts.endMs);
  const plant = await MujocoPlant.create({
    mjcfPath: cartpoleXml,
    state: [
      { name: 'x', joint: 'slider', field: 'qpos' },
      { name: 'theta', joint: 'hinge', field: 'qpos' },
      { name: 'x_dot', joint: 'slider', field: 'qvel' },
      { name: 'theta_dot', joint: 'hinge', field: 'qvel' },
    ],
    actions: [{ name: 'u', actuator: 'cart_force' }],
    controlPeriod: 0.01,
    mode: 'free_running',
    scheduler: opts.lateMs === undefined ? scheduler : lateTimers(scheduler, opts.lateMs),
  });
  const drive: Outcome['drive'] = [];
  const send = plant.send.bind(plant);
  plant.send = (u: Float32Array) => {
    drive.push({ at: scheduler.now(), u: u[0]! });
    send(u);
  };
  const link = new MemoryLink(scheduler);
  const faults = new FaultInjector(specs.map(parseFaultSpec), new Rng(1), scheduler);
  const robot = VirtualRobot.start({
    plant,
    link,
    scheduler,
    clock: new RobotClock(scheduler, ROBOT_UP_S),
    channels: [
      { name: 'cart', slots: [0, 2] },
      { name: 'pole', slots: [1, 3] },
    ],
    safeAction: Float32Array.of(SAFE_U),
    initialState: () => Float64Array.of(0, Math.PI, 0, 0),
    linkTimeout: 0.25,
    faults,
    logger: pino({ level: 'silent' }),
  });
  const daemonNow = (): number => scheduler.now() / 1000 + DAEMON_AHEAD_S;
  let seq = 0;
  for (let at = 0; at < opts.stopMs; at += TICK_MS) {
    // A tick's command right after the robot's period boundary, as the daemon plans from a fresh reading.
    scheduler.schedule(() => {
      link.heartbeats.next(daemonNow());
      link.commands.next({ seq: ++seq, stamp: daemonNow(), ttl: TTL, u: [COMMAND_U] });
    }, at + 1);
  }
  for (const at of [ARM_MS, ...(opts.armsMs ?? [])]) scheduler.schedule(() => link.arm.next('arm'), at);
  scheduler.flush();
  await robot.close();
  return { robot, link, drive };
}

/** Robot clock − host clock of each reading published in [fromMs, toMs), s; ROBOT_UP_S before any fault. */
function stampOffsets(o: Outcome, fromMs: number, toMs: number): number[] {
  return o.link.published.filter((p) => p.at >= fromMs && p.at < toMs).map((p) => p.obs.stamp - p.at / 1000);
}

/** The last time (host ms) before `beforeMs` the robot applied a command, and the first time after it that the safe action took over. */
function commandToSafe(o: Outcome, beforeMs: number): { lastCommand: number; safe: number } {
  const lastCommand = o.drive.filter((d) => d.u === Math.fround(COMMAND_U) && d.at < beforeMs).at(-1)!.at;
  const safe = o.drive.find((d) => d.at > lastCommand && d.u === Math.fround(SAFE_U))!.at;
  return { lastCommand, safe };
}

for (const jump of [-5, 5]) {
  test(`clock_step:${jump}@1: stamps move by ${jump} s for good, and the robot goes on applying the daemon's commands, expiring them and watching the link on its stepped clock`, async () => {
    const stepAt = ARM_MS + 1000;
    const o = await run([`clock_step:${jump}@1`], { endMs: 3000, stopMs: 2500 });
    for (const d of stampOffsets(o, ARM_MS, stepAt)) assert.ok(Math.abs(d - ROBOT_UP_S) < 0.011, `before the step a stamp is ${d} s off the host clock`);
    for (const d of stampOffsets(o, stepAt + 10, 3000)) assert.ok(Math.abs(d - ROBOT_UP_S - jump) < 0.011, `after the step a stamp is ${d - ROBOT_UP_S} s off, not ${jump}`);
    assert.equal(o.robot.counts.clockSteps, 1);
    // The offset estimate re-learned: no command refused as stale. One link timeout, 0.25 s after
    // the daemon went quiet at 2.5 s: none at a forward step, and not 5 s late after a backward one.
    assert.deepEqual(o.robot.counts.rejected, {});
    assert.equal(o.robot.counts.linkTimeouts, 1);
    const afterStep = o.drive.filter((d) => d.at > stepAt && d.at < 2500 && d.u === Math.fround(COMMAND_U)).length;
    assert.ok(afterStep >= 70, `only ${afterStep} commands applied after the step`);
    // Its expiry moved with the clock: the daemon stops at 2.5 s and the last command lapses after its ttl, within one period.
    const { lastCommand, safe } = commandToSafe(o, 2500);
    assert.ok(safe - lastCommand >= TTL * 1000 && safe - lastCommand <= TTL * 1000 + 10 + 1e-6, `safe ${safe - lastCommand} ms after the last command`);
  });
}

test('reboot:0.5@1: silent and limp for 0.5 s (an arm meanwhile is not heard), then a new boot with its clock from 0, disarmed until the next arm, which starts an episode', async () => {
  const offAt = ARM_MS + 1000;
  const onAt = offAt + 500;
  const armAgainAt = 2000;
  const o = await run(['reboot:0.5@1'], { endMs: 3000, stopMs: 3000, armsMs: [offAt + 200, armAgainAt] });
  // Power off at the first period boundary of the window, on at the first after it.
  assert.deepEqual(o.link.power.map((p) => p.on), [false, true]);
  const [off, on] = o.link.power.map((p) => p.at) as [number, number];
  assert.ok(off >= offAt && off < offAt + 10, `powered off at ${off} ms`);
  assert.ok(on >= onAt && on < onAt + 10, `powered on at ${on} ms`);
  assert.equal(o.robot.counts.reboots, 1);
  // Nothing on the wire while off; limp (u = 0), not the safe action, and no command applied.
  assert.deepEqual(o.link.published.filter((p) => p.at > off && p.at < on), []);
  assert.deepEqual([...new Set(o.drive.filter((d) => d.at >= off && d.at < on).map((d) => d.u))], [0]);
  // The new boot's clock starts at 0: its first readings are stamped 0..1 period, then they run with the host.
  const first = o.link.published.find((p) => p.at >= on)!;
  assert.ok(first.obs.stamp >= 0 && first.obs.stamp <= 0.01 + 1e-9, `first stamp after the boot: ${first.obs.stamp}`);
  for (const d of stampOffsets(o, on, 3000)) assert.ok(Math.abs(d + on / 1000) < 0.011, `after the boot a stamp is ${d} s off`);
  // Booted disarmed: the safe action until the daemon's next arm (the one during the outage was never heard), then commands again.
  const beforeArm = o.drive.filter((d) => d.at >= on && d.at < armAgainAt);
  assert.ok(beforeArm.length > 0 && beforeArm.every((d) => d.u === Math.fround(SAFE_U)), `driven before the arm: ${JSON.stringify(beforeArm.slice(0, 5))}`);
  assert.ok(o.drive.some((d) => d.at > armAgainAt && d.u === Math.fround(COMMAND_U)), 'no command applied after the arm');
  // Resets: at start, at the first arm, and at the arm after the boot (a new episode).
  assert.equal(o.robot.counts.resets, 3);
});

for (const jump of [-5, 5]) {
  test(`clock_step:${jump}@1 with the daemon quiet from just before it: the last command lapses after its ttl and the link times out after link_timeout, neither moved by the step`, async () => {
    const stepAt = ARM_MS + 1000;
    const o = await run([`clock_step:${jump}@1`], { endMs: 2000, stopMs: stepAt - 5 });
    assert.equal(o.robot.counts.clockSteps, 1);
    const { lastCommand, safe } = commandToSafe(o, stepAt);
    assert.ok(lastCommand < stepAt && lastCommand + TTL * 1000 > stepAt, 'the last command was still live at the step');
    assert.ok(safe - lastCommand >= TTL * 1000 && safe - lastCommand <= TTL * 1000 + 10 + 1e-6, `safe ${safe - lastCommand} ms after the last command`);
    // The link timeout holds the safe action again (and disarms): 0.25 s after the last frame, within one period.
    assert.equal(o.robot.counts.linkTimeouts, 1);
    const timeout = o.drive.filter((d) => d.at > safe && d.u === Math.fround(SAFE_U))[0]!.at;
    assert.ok(timeout - lastCommand >= 250 && timeout - lastCommand <= 260 + 1e-6, `link timeout ${timeout - lastCommand} ms after the last frame`);
  });
}

test('reboot on a busy host (the physics timer 15 ms late, so periods are caught up): no reading from before the boot, every stamp of the new boot at or above 0 and advancing', async () => {
  const o = await run(['reboot:0.5@1'], { endMs: 2500, stopMs: 2500, lateMs: 15 });
  const on = o.link.power.find((p) => p.on)!.at;
  for (const channel of ['cart', 'pole']) {
    const stamps = o.link.published.filter((p) => p.at >= on && p.obs.channel === channel).map((p) => p.obs.stamp);
    assert.ok(stamps.length > 50, `${channel}: ${stamps.length} readings after the boot`);
    assert.ok(stamps[0]! >= 0, `${channel}: the first stamp after the boot is ${stamps[0]}`);
    for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i]! > stamps[i - 1]!, `${channel}: stamp ${stamps[i]} after ${stamps[i - 1]}`);
  }
});
