import type { Logger } from 'pino';
import { Subscription, type Observable, type SchedulerLike } from 'rxjs';
import { ClockOffsetBound } from '../src/io/clock-offset.js';
import { CommandGate, type CommandEnvelope } from '../src/io/command-envelope.js';
import type { ArmCommand, Observation } from '../src/io/plant.js';
import { createLogger } from '../src/telemetry/logger.js';
import type { FaultInjector } from './fault-injector.js';
import type { MujocoPlant } from './mujoco-plant.js';
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
 */
export class VirtualRobot {
  readonly counts: VirtualRobotCounts = { published: 0, commands: 0, applied: 0, rejected: {}, resets: 0, linkTimeouts: 0 };
  private readonly gate = new CommandGate();
  /** (robot clock − daemon clock), as CommandGate keeps it, to place a command's expiry in robot time. */
  private readonly offset = new ClockOffsetBound();
  private readonly subs = new Subscription();
  private readonly log: Logger;
  private readonly period: number;
  private anchor = 0; // robot time (s) of the plant's physics time 0
  private skippedSeen = 0;
  private armed = false;
  private estopped = false;
  private resetOnArm = true; // an ARM after a DISARM (or at boot) starts an episode
  private applying: 'command' | 'safe' = 'safe';
  private expiry = -Infinity; // robot time the applied command expires, s
  private lastHeard = -Infinity; // robot time of the last frame from the daemon, s
  private closed = false;

  private constructor(private readonly opts: VirtualRobotOptions) {
    this.log = opts.logger ?? createLogger('mpcd.virtual-robot');
    this.period = opts.plant.controlPeriod;
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
    return this.opts.scheduler.now() / 1000;
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
    const now = this.now();
    this.lastHeard = now;
    this.counts.commands++;
    this.offset.observe(now - cmd.stamp, now);
    const verdict = this.gate.check(cmd, now);
    const age = now - cmd.stamp - this.offset.value;
    const applied = verdict === 'apply' && this.armed && !this.estopped;
    let expiry: number | undefined;
    if (applied) {
      expiry = cmd.stamp + this.offset.value + cmd.ttl;
      this.opts.plant.send(Float32Array.from(cmd.u));
      this.applying = 'command';
      this.expiry = expiry;
      this.counts.applied++;
    } else if (verdict !== 'apply') {
      this.counts.rejected[verdict] = (this.counts.rejected[verdict] ?? 0) + 1;
    }
    this.opts.recorder?.write({ ev: 'cmd', seq: cmd.seq, stamp: cmd.stamp, ttl: cmd.ttl, u: [...cmd.u], verdict, applied, age, ...(expiry !== undefined ? { expiry } : {}) }, now);
  }

  private onArm(cmd: ArmCommand): void {
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
    this.gate.reset();
    this.offset.reset();
    this.opts.recorder?.write({ ev: 'daemon_session' });
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

  /** End of a physics period: the robot-side watchdogs, then the readings go out. */
  private onPeriod(obs: Observation): void {
    const plant = this.opts.plant;
    if (plant.skippedPeriods !== this.skippedSeen) {
      // The plant gave up periods it could not catch up; its time 0 moved on by as much.
      this.anchor += (plant.skippedPeriods - this.skippedSeen) * this.period;
      this.skippedSeen = plant.skippedPeriods;
    }
    const boundary = this.anchor + obs.stamp;
    // Expiry first: a command always runs out (ttl) long before the link times out.
    if (this.applying === 'command' && boundary > this.expiry) this.holdSafe('expired', boundary, this.expiry);
    if (this.armed && boundary - this.lastHeard > this.opts.linkTimeout) this.onLinkLost(`no frame for ${this.opts.linkTimeout} s`);
    for (const ch of this.opts.channels) {
      const values = ch.slots.map((i) => obs.values[i]!);
      this.opts.faults.forward({ channel: ch.name, stamp: boundary, values }, (o) => {
        this.counts.published++;
        this.opts.link.publish(o);
      });
    }
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
