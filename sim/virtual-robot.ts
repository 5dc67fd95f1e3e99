import type { Logger } from 'pino';
import { Subscription, type Observable, type SchedulerLike } from 'rxjs';
import { ClockOffsetBound } from '../src/io/clock-offset.js';
import { CommandGate, type CommandEnvelope } from '../src/io/command-envelope.js';
import type { ArmCommand, Observation } from '../src/io/plant.js';
import { createLogger } from '../src/telemetry/logger.js';
import type { FaultInjector } from './fault-injector.js';
import type { MujocoPlant } from './mujoco-plant.js';
import { RobotClock } from './robot-clock.js';
import type { RobotLink } from './robot-link.js';
import type { RobotRecorder, SafeReason } from './robot-record.js';

export interface VirtualRobotOptions {
  /** A free-running plant on `scheduler`; the robot owns it from here on. */
  readonly plant: MujocoPlant;
  readonly link: RobotLink;
  readonly scheduler: SchedulerLike;
  /** The transport's channels: which state slots each one publishes, in order. */
  readonly channels: readonly { readonly name: string; readonly slots: readonly number[] }[];
  /** [nu] what the robot applies whenever it is not applying a valid command. */
  readonly safeAction: Float32Array;
  /** A fresh initial state [nx] for each episode (the config's scenario.initial_state). */
  readonly initialState: () => Float64Array;
  /** s without any frame from the daemon after which the robot disarms itself. */
  readonly linkTimeout: number;
  readonly faults: FaultInjector;
  /** The robot's own clock (stamps, command expiry, watchdogs); default the scheduler's, unfaulted. Share it with the link's e-stop stamps and the recorder. */
  readonly clock?: RobotClock;
  /** The daemon started a new session (restarted): its seq and clock start afresh. */
  readonly daemonSession$?: Observable<unknown>;
  /** The daemon is known to be gone (MQTT: its last will): disarm as on a link timeout. */
  readonly daemonGone$?: Observable<unknown>;
  readonly recorder?: RobotRecorder;
  readonly logger?: Logger;
}

/** What the robot counted since it started. */
export interface VirtualRobotCounts {
  published: number;
  commands: number;
  applied: number;
  rejected: Partial<Record<string, number>>;
  resets: number;
  linkTimeouts: number;
  /** Steps of its own clock (clock_step faults). */
  clockSteps: number;
  /** Power cycles (reboot faults). */
  reboots: number;
}

/**
 * The robot's side of a HIL rig: a MuJoCo plant running free in real time behind a RobotLink,
 * behaving as hardware/protocol.md asks a robot to.
 *
 * - Every command goes through a CommandGate (newer seq, younger than its ttl); it is applied
 *   only while armed and not e-stopped, and holds until its expiry (stamp + clock offset + ttl,
 *   robot time).
 * - The safe action holds whenever the robot is not armed, is e-stopped, or its last command
 *   has expired. The check runs at every physics period boundary, and the ctrl set there holds
 *   for the next period, so the safe action takes over at the first boundary after the expiry:
 *   **within one control period of it**, on the plant's own timeline (the `t` of `safe` records).
 * - No frame from the daemon for `linkTimeout` (or the daemon's last will): disarm. Only an ARM
 *   re-arms it; a robot never re-arms itself.
 * - An ARM after a DISARM from the daemon starts an episode: the plant resets to a fresh initial
 *   state. An ARM after a link loss or an e-stop continues where the robot is.
 * - Readings are stamped with the robot's monotonic clock (seconds), split into the transport's
 *   channels, and pass the fault injector on their way out.
 * - A clock_step fault moves that clock for good: stamps, expiry and watchdogs move with it, and
 *   the clock-offset estimates start again (a forward step would make every command look old).
 * - A reboot fault: silent and limp (zero actuation, the physics runs on) for its window, then a
 *   new boot: a new session on the link, the clock from 0, disarmed until the daemon's next ARM,
 *   which starts an episode.
 */
export class VirtualRobot {
  readonly counts: VirtualRobotCounts = { published: 0, commands: 0, applied: 0, rejected: {}, resets: 0, linkTimeouts: 0, clockSteps: 0, reboots: 0 };
  private readonly gate = new CommandGate();
  /** (robot clock − daemon clock), as CommandGate keeps it, to place a command's expiry in robot time. */
  private readonly offset = new ClockOffsetBound();
  private readonly subs = new Subscription();
  private readonly log: Logger;
  private readonly clock: RobotClock;
  private readonly period: number;
  private anchor = 0; // robot time (s) of the plant's physics time 0
  private skippedSeen = 0;
  private armed = false;
  private estopped = false;
  private resetOnArm = true; // an ARM after a DISARM (or at boot) starts an episode
  private applying: 'command' | 'safe' = 'safe';
  private expiry = -Infinity; // robot time the applied command expires, s
  private lastHeard = -Infinity; // robot time of the last frame from the daemon, s
  private clockError = 0; // the clock_step faults applied so far, s
  private lastApplied = -1; // seq of the last command applied in this daemon session
  private seqFloor = -1; // commands up to this seq were judged before a clock step: still old after it
  private powered = true;
  private closed = false;

  private constructor(private readonly opts: VirtualRobotOptions) {
    this.log = opts.logger ?? createLogger('mpcd.virtual-robot');
    this.period = opts.plant.controlPeriod;
    this.clock = opts.clock ?? new RobotClock(opts.scheduler);
  }

  /** Wires the robot up and puts the plant in a first initial state, disarmed, holding the safe action. */
  static start(opts: VirtualRobotOptions): VirtualRobot {
    const robot = new VirtualRobot(opts);
    const { link, plant } = opts;
    robot.subs.add(plant.observations$.subscribe((o) => robot.onPeriod(o)));
    robot.subs.add(link.commands$.subscribe((c) => robot.onCommand(c)));
    robot.subs.add(link.arm$.subscribe((a) => robot.onArm(a)));
    robot.subs.add(
      link.heartbeats$.subscribe((stamp) => {
        if (!robot.powered) return;
        const now = robot.now();
        robot.lastHeard = now;
        robot.gate.observeClock(stamp, now);
        robot.offset.observe(now - stamp, now);
      }),
    );
    if (opts.daemonSession$) robot.subs.add(opts.daemonSession$.subscribe(() => robot.onDaemonSession()));
    if (opts.daemonGone$) robot.subs.add(opts.daemonGone$.subscribe(() => robot.onLinkLost('daemon gone')));
    robot.reset();
    return robot;
  }

  /** Robot monotonic time, s. */
  now(): number {
    return this.clock.now();
  }

  get isArmed(): boolean {
    return this.armed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subs.unsubscribe();
    this.opts.recorder?.write({ ev: 'stop', published: this.counts.published, faults: { ...this.opts.faults.counts }, link_dropped: this.opts.link.dropped.count });
    await this.opts.link.close();
    await this.opts.plant.close();
  }

  private onCommand(cmd: CommandEnvelope): void {
    if (!this.powered) return;
    const now = this.now();
    this.lastHeard = now;
    this.counts.commands++;
    this.offset.observe(now - cmd.stamp, now);
    const verdict = cmd.seq <= this.seqFloor ? 'duplicate_or_old' : this.gate.check(cmd, now);
    const age = now - cmd.stamp - this.offset.value;
    const applied = verdict === 'apply' && this.armed && !this.estopped;
    let expiry: number | undefined;
    if (applied) {
      expiry = cmd.stamp + this.offset.value + cmd.ttl;
      this.opts.plant.send(Float32Array.from(cmd.u));
      this.applying = 'command';
      this.expiry = expiry;
      this.lastApplied = cmd.seq;
      this.counts.applied++;
    } else if (verdict !== 'apply') {
      this.counts.rejected[verdict] = (this.counts.rejected[verdict] ?? 0) + 1;
    }
    this.opts.recorder?.write({ ev: 'cmd', seq: cmd.seq, stamp: cmd.stamp, ttl: cmd.ttl, u: [...cmd.u], verdict, applied, age, ...(expiry !== undefined ? { expiry } : {}) }, now);
  }

  private onArm(cmd: ArmCommand): void {
    if (!this.powered) return;
    const now = this.now();
    this.lastHeard = now;
    this.opts.recorder?.write({ ev: cmd }, now);
    switch (cmd) {
      case 'arm':
        this.estopped = false; // ARM is the only thing that clears an e-stop
        if (this.armed) return;
        this.armed = true;
        this.log.info({ episode_start: this.resetOnArm }, 'virtual robot: armed');
        if (this.resetOnArm) {
          this.resetOnArm = false;
          this.opts.faults.start();
          this.reset();
        }
        return;
      case 'disarm':
        this.armed = false;
        this.resetOnArm = true;
        this.holdSafe('disarmed', now);
        return;
      case 'estop':
        this.estopped = true;
        this.armed = false;
        this.holdSafe('estop', now);
        return;
    }
  }

  private onDaemonSession(): void {
    if (!this.powered) return;
    this.forgetDaemon();
    this.opts.recorder?.write({ ev: 'daemon_session' }, this.now());
  }

  /** A daemon session's seq and clock offset, forgotten (the daemon restarted, or this robot did). */
  private forgetDaemon(): void {
    this.gate.reset();
    this.offset.reset();
    this.lastApplied = -1;
    this.seqFloor = -1;
  }

  private onLinkLost(why: string): void {
    if (!this.armed) return;
    const now = this.now();
    this.armed = false;
    this.counts.linkTimeouts++;
    this.log.warn({ why, quiet_s: now - this.lastHeard }, 'virtual robot: lost the daemon; disarmed, holding the safe action');
    this.opts.recorder?.write({ ev: 'link_timeout', quiet: now - this.lastHeard }, now);
    this.holdSafe('link_timeout', now);
  }

  /** End of a physics period: the robot's own faults, the robot-side watchdogs, then the readings go out. */
  private onPeriod(obs: Observation): void {
    const plant = this.opts.plant;
    this.followClockFaults();
    if (!this.followPower()) return;
    if (plant.skippedPeriods !== this.skippedSeen) {
      // The plant gave up periods it could not catch up; its time 0 moved on by as much.
      this.anchor += (plant.skippedPeriods - this.skippedSeen) * this.period;
      this.skippedSeen = plant.skippedPeriods;
    }
    const boundary = this.anchor + obs.stamp;
    // Expiry first: a command always runs out (ttl) long before the link times out.
    if (this.applying === 'command' && boundary > this.expiry) this.holdSafe('expired', boundary, this.expiry);
    if (this.armed && boundary - this.lastHeard > this.opts.linkTimeout) this.onLinkLost(`no frame for ${this.opts.linkTimeout} s`);
    // The clock reads 0 when the robot boots: a period that ended before then (a late timer's
    // catch-up) was measured by no one, and a stamp below 0 has no place on an unsigned wire.
    if (boundary < 0) return;
    for (const ch of this.opts.channels) {
      const values = ch.slots.map((i) => obs.values[i]!);
      this.opts.faults.forward({ channel: ch.name, stamp: boundary, values }, (o) => {
        this.counts.published++;
        this.opts.link.publish(o);
      });
    }
  }

  /** A clock_step fault that came due: the robot's clock and everything it timed move by the jump. */
  private followClockFaults(): void {
    const error = this.opts.faults.clockError();
    if (error === this.clockError) return;
    const jump = error - this.clockError;
    this.clockError = error;
    this.clock.step(jump);
    this.moveClock(jump);
    // The offset bounds are in the old clock: a forward step would leave them too small by the
    // jump (every command stale), so they re-learn from the next frames. The seq still stands.
    this.gate.reset();
    this.offset.reset();
    this.seqFloor = this.lastApplied;
    this.counts.clockSteps++;
    this.log.warn({ jump_s: jump }, 'virtual robot: its clock stepped');
    if (this.now() < 0) this.log.warn({ now_s: this.now() }, 'virtual robot: its clock stepped below 0; it publishes nothing until the clock passes 0 (stamps are unsigned on a serial wire)');
  }

  /** Moves what the robot timed on its clock by `jump` s, so that a clock change is no lapse of time. */
  private moveClock(jump: number): void {
    this.anchor += jump;
    this.lastHeard += jump;
    this.expiry += jump;
  }

  /** The reboot fault: power off at its window's start, a new boot at its end. Returns whether the robot is powered. */
  private followPower(): boolean {
    const off = this.opts.faults.active('reboot', undefined) !== undefined;
    if (off && this.powered) this.powerOff();
    else if (!off && !this.powered) this.boot();
    return this.powered;
  }

  private powerOff(): void {
    const now = this.now();
    this.powered = false;
    this.armed = false;
    this.estopped = false;
    this.resetOnArm = true;
    this.applying = 'safe';
    this.expiry = -Infinity;
    // Limp: no drive at all, whatever the configured safe action; the physics runs on.
    this.opts.plant.send(new Float32Array(this.opts.safeAction.length));
    this.opts.link.powerOff();
    this.log.warn({ at: now }, 'virtual robot: power lost; silent and limp');
  }

  /** A new boot: the clock from 0, a new session on the link, disarmed and holding the safe action. */
  private boot(): void {
    this.powered = true;
    this.moveClock(this.clock.restart());
    this.forgetDaemon();
    this.counts.reboots++;
    this.opts.plant.send(this.opts.safeAction);
    this.opts.link.powerOn().then(
      () => this.log.info({ reboots: this.counts.reboots }, 'virtual robot: booted; a new session, disarmed until the next arm'),
      (err: unknown) => this.log.error({ err: (err as Error).message }, 'virtual robot: booted, but its link did not come up'),
    );
  }

  /** The safe action from now on (ctrl holds from here); recorded when it takes over from a command or the arming changed. */
  private holdSafe(reason: SafeReason, t: number, expiry?: number): void {
    const fromCommand = this.applying === 'command';
    this.applying = 'safe';
    this.expiry = -Infinity;
    this.opts.plant.send(this.opts.safeAction);
    if (fromCommand || reason !== 'expired') {
      this.opts.recorder?.write({ ev: 'safe', reason, u: Array.from(this.opts.safeAction), ...(expiry !== undefined ? { expiry } : {}) }, t);
    }
  }

  /** A new episode: a fresh initial state, the safe action, the plant's clock restarted. */
  private reset(): void {
    const x0 = this.opts.initialState();
    this.applying = 'safe';
    this.expiry = -Infinity;
    this.counts.resets++;
    this.skippedSeen = this.opts.plant.skippedPeriods;
    this.anchor = this.now(); // the plant's clock restarts now: physics time 0
    this.opts.recorder?.write({ ev: 'reset', x0: Array.from(x0) }, this.anchor);
    this.opts.plant.reset(x0);
    this.opts.plant.send(this.opts.safeAction);
  }
}
