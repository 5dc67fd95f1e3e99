import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { asyncScheduler, Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { SerialPlantConfig } from '../../config/serial-plant-schema.js';
import { MpcdError } from '../../core/errors.js';
import { createLogger } from '../../telemetry/logger.js';
import { LinkStamps } from '../link-stamps.js';
import type { ArmCommand, Observation, PlantEvent, PlantPort } from '../plant.js';
import { MessageReader } from './message-reader.js';
import { RobotSequence } from './robot-sequence.js';
import type { SerialMessage } from './messages.js';
import { nodeSerialPorts, resolvePortPath, type SerialByteStream, type SerialPorts } from './serial-ports.js';
import { wireFormat, type WireFormat } from './wire-format.js';

export interface SerialPlantOptions {
  /** The state vector's names, in order (the channels' states index into it). */
  readonly stateNames: readonly string[];
  /** The action vector's names, in the order `send` gets them. */
  readonly actionNames: readonly string[];
  /** Seconds; the default command ttl is two of these. */
  readonly controlPeriod: number;
  /** From `--serial PATH`: opens this path whatever the config says. */
  readonly portOverride?: string;
  /** Times the reopen backoff (delays in ms); default asyncScheduler. */
  readonly scheduler?: SchedulerLike;
  /** Daemon monotonic clock, seconds; stamps commands. Default performance.now() / 1000. */
  readonly clock?: () => number;
  readonly logger?: Logger;
  /** This daemon run's session id on the wire; default random. */
  readonly session?: number;
  /** Port discovery and opening; default `serialport`. */
  readonly ports?: SerialPorts;
}

/** What the plant counted since it opened. */
export interface SerialPlantCounters {
  /** Frames that arrived (decoded, malformed or over-long). */
  framesIn: number;
  /** Observations emitted. */
  observations: number;
  /** Frames and messages dropped, by reason (codec reasons, and unknown_channel, duplicate_or_old, unexpected_type). */
  dropped: Record<string, number>;
  /** Times the link came back after going down. */
  reopens: number;
  /** COMMAND frames written. */
  commandsSent: number;
  /** Frames not written because the link was down (commands are never queued for later). */
  droppedWhileDown: number;
  /** Frames not written because the OS was not taking bytes as fast as we wrote them. */
  droppedBackpressure: number;
}

/** More than this many bytes waiting in the stream means the port is not keeping up: drop, never queue. */
const BACKPRESSURE_BYTES = 1024;

/**
 * down: no port; a reopen is scheduled. opening: the port is open, the robot not yet heard.
 * up: the robot was heard within silence_timeout. Frames are written only while up.
 */
type LinkState = 'down' | 'opening' | 'up' | 'closed';

/**
 * The robot on a serial port, behind the Plant port (protocol: hardware/protocol.md).
 *
 * The link is up while the robot is heard: `link_up` comes with the first valid frame after
 * the port opens, `link_down` when the port closes or fails, or when no valid frame arrived for
 * `silence_timeout` (the OS does not always report a dead port: a hung-up pty, a wedged
 * adapter). Then the plant closes the port, logs, and reopens it (the path, or the USB ids
 * looked up afresh) with exponential backoff between `reopen_backoff.min` and `.max`; after
 * opening it waits `boot_timeout` for the robot's first frame, since many boards reset when
 * their port opens. While not up, `send`, `heartbeat` and `command` drop their frame (a
 * command that arrived late would be stale anyway); the robot holds its safe action when its
 * commands expire, and the safety layer listens to `events$`.
 */
export class SerialPlant implements PlantPort {
  readonly channels: readonly { readonly name: string; readonly slots: readonly number[] }[];
  readonly observations$: Observable<Observation>;
  readonly events$: Observable<PlantEvent>;
  /** This run's session id on the wire. */
  readonly session: number;
  /** Seconds a command stays valid on the robot. */
  readonly commandTtl: number;

  private readonly obs = new Subject<Observation>();
  private readonly events = new Subject<PlantEvent>();
  private readonly format: WireFormat;
  private readonly reader: MessageReader;
  private readonly sequence: RobotSequence;
  private readonly stamps: LinkStamps;
  private readonly scheduler: SchedulerLike;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly ports: SerialPorts;
  private readonly channelsById = new Map<number, { name: string; width: number }>();
  private readonly wireOrder: Int32Array; // [nu on the wire] index into send()'s action
  private readonly count: SerialPlantCounters = {
    framesIn: 0,
    observations: 0,
    dropped: {},
    reopens: 0,
    commandsSent: 0,
    droppedWhileDown: 0,
    droppedBackpressure: 0,
  };
  private port: SerialByteStream | undefined; // set while opening or up
  private state: LinkState = 'down';
  private everUp = false;
  private lastHeardMs = 0; // scheduler time of the last valid frame, or of opening
  private watchdog: Subscription | undefined;
  private path = '';
  private seq = 0;
  private backoffS: number;
  private retry: Subscription | undefined;

  private constructor(
    private readonly cfg: SerialPlantConfig,
    private readonly opts: SerialPlantOptions,
  ) {
    const problems: string[] = [];
    const stateIndex = new Map(opts.stateNames.map((n, i) => [n, i]));
    const covered = new Set<string>();
    this.channels = cfg.channels.map((c) => {
      const slots = c.states.map((s) => {
        const i = stateIndex.get(s);
        if (i === undefined) problems.push(`channel '${c.name}' maps state '${s}', which is not a state of the model (${opts.stateNames.join(', ')})`);
        covered.add(s);
        return i ?? 0;
      });
      this.channelsById.set(c.id, { name: c.name, width: slots.length });
      return { name: c.name, slots };
    });
    for (const s of opts.stateNames) if (!covered.has(s)) problems.push(`state '${s}' is in no channel, so it would never be observed; add it to a channel's states`);
    const actionIndex = new Map(opts.actionNames.map((n, i) => [n, i]));
    this.wireOrder = Int32Array.from(cfg.actions, (a) => {
      const i = actionIndex.get(a);
      if (i === undefined) problems.push(`action '${a}' is not an action of the model (${opts.actionNames.join(', ')})`);
      return i ?? 0;
    });
    for (const a of opts.actionNames) if (!cfg.actions.includes(a)) problems.push(`action '${a}' is missing from plant.actions, so the robot would never get it`);
    if (problems.length > 0) throw new MpcdError('SERIAL_CONFIG', 'plant.channels / plant.actions do not fit the model; fix the names', problems);

    this.format = wireFormat(cfg.framing);
    this.reader = new MessageReader(this.format, (m) => this.onMessage(m), (r) => this.drop(r));
    this.scheduler = opts.scheduler ?? asyncScheduler;
    this.clock = opts.clock ?? (() => performance.now() / 1000);
    this.log = opts.logger ?? createLogger('mpcd.serial');
    this.ports = opts.ports ?? nodeSerialPorts;
    // A nonce, not simulation randomness: it only has to differ between daemon runs.
    this.session = opts.session ?? randomInt(0, 0xffffffff);
    this.commandTtl = cfg.command_ttl ?? 2 * opts.controlPeriod;
    this.backoffS = cfg.reopen_backoff.min;
    this.observations$ = this.obs.asObservable();
    this.events$ = this.events.asObservable();
    this.stamps = new LinkStamps(cfg, opts.controlPeriod, this.log, (e) => this.events.next(e));
    // A seq that jumped (corrupt, or reset without a new session) costs as many frames as a clock step.
    this.sequence = new RobotSequence(this.stamps.clockStepReadings);
  }

  /**
   * Checks the mapping, finds and opens the port. Throws MpcdError SERIAL_CONFIG (names do not
   * fit), SERIAL_NOT_FOUND (no port with the USB ids) or SERIAL_OPEN (the OS refused it). Only
   * this first open throws; later losses of the link are retried forever.
   */
  static async open(cfg: SerialPlantConfig, opts: SerialPlantOptions): Promise<SerialPlant> {
    const plant = new SerialPlant(cfg, opts);
    const path = await resolvePortPath(cfg.port, opts.portOverride, plant.ports);
    let port: SerialByteStream;
    try {
      port = await plant.ports.open(path, cfg.baud);
    } catch (err) {
      throw new MpcdError(
        'SERIAL_OPEN',
        `cannot open serial port ${path}: ${(err as Error).message}; check that the robot is plugged in, ` +
          `that the path is right (ls -l /dev/serial/by-id), and that this user may open it (group dialout)`,
      );
    }
    plant.attach(port, path);
    return plant;
  }

  /** A snapshot of the counters. */
  get counters(): SerialPlantCounters {
    return { ...this.count, framesIn: this.reader.frames.frames + this.reader.frames.oversize, dropped: { ...this.count.dropped } };
  }

  get linkUp(): boolean {
    return this.state === 'up';
  }

  /** Encodes `action` [nu] as a COMMAND and writes it without waiting; dropped while the link is down. */
  send(action: Float32Array): void {
    if (this.state === 'closed') return;
    if (action.length !== this.opts.actionNames.length) {
      throw new MpcdError('SERIAL_ACTION', `send got an action of length ${action.length}; this plant takes ${this.opts.actionNames.length}: ${this.opts.actionNames.join(', ')}`);
    }
    const u = new Array<number>(this.wireOrder.length);
    for (let i = 0; i < u.length; i++) {
      const v = action[this.wireOrder[i]!]!;
      // The safety filter guards against NaN upstream; a robot must never be sent one regardless.
      if (!Number.isFinite(v)) return this.drop('non_finite_action');
      u[i] = v;
    }
    if (this.write((seq, stamp) => ({ type: 'command', session: this.session, seq, stamp, ttl: this.commandTtl, u }))) this.count.commandsSent++;
  }

  heartbeat(): void {
    this.write((seq, stamp) => ({ type: 'heartbeat', session: this.session, seq, stamp }));
  }

  command(cmd: ArmCommand): void {
    if (cmd === 'estop') this.write((seq, stamp) => ({ type: 'estop', session: this.session, seq, stamp, source: 'daemon' }));
    else this.write((seq, stamp) => ({ type: cmd, session: this.session, seq, stamp }));
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.retry?.unsubscribe();
    this.retry = undefined;
    this.watchdog?.unsubscribe();
    this.watchdog = undefined;
    const port = this.port;
    this.port = undefined;
    if (port !== undefined) await closeQuietly(port);
    this.obs.complete();
    this.events.complete();
  }

  /** Writes one frame now if the link is up and keeping up; true if written. */
  private write(build: (seq: number, stamp: number) => SerialMessage): boolean {
    const port = this.port;
    if (this.state === 'closed') return false;
    if (port === undefined || this.state !== 'up') {
      this.count.droppedWhileDown++;
      return false;
    }
    if (port.writableLength > BACKPRESSURE_BYTES) {
      this.count.droppedBackpressure++;
      return false;
    }
    let frame: Uint8Array;
    try {
      frame = this.format.encode(build(this.seq, this.clock()));
    } catch (err) {
      // e.g. an action beyond float32 range: never worth stopping the daemon for.
      this.log.warn({ reason: (err as Error).message }, 'frame not encodable; dropped');
      this.drop('unencodable');
      return false;
    }
    this.seq = (this.seq + 1) >>> 0;
    port.write(frame); // errors arrive as 'error' / 'close' events
    return true;
  }

  /** The port is open: wait for the robot's first frame. */
  private attach(port: SerialByteStream, path: string): void {
    this.port = port;
    this.path = path;
    this.state = 'opening';
    this.lastHeardMs = this.scheduler.now();
    this.reader.reset();
    port.on('data', (chunk: Buffer) => {
      if (this.port === port) this.reader.push(chunk);
    });
    port.on('error', (err: Error) => this.lost(port, err.message));
    port.on('close', () => this.lost(port, 'port closed'));
    this.log.debug({ path }, 'serial port open; waiting for the robot');
    this.armWatchdog(port);
  }

  /** Checks, a few times per timeout, that the robot is still heard (the OS may never report a dead port). */
  private armWatchdog(port: SerialByteStream): void {
    const everyMs = (Math.min(this.cfg.silence_timeout, this.cfg.boot_timeout) * 1000) / 4;
    const plant = this;
    this.watchdog?.unsubscribe();
    this.watchdog = this.scheduler.schedule(function () {
      if (plant.port !== port) return;
      const quietS = (plant.scheduler.now() - plant.lastHeardMs) / 1000;
      const limitS = plant.state === 'up' ? plant.cfg.silence_timeout : plant.cfg.boot_timeout;
      if (quietS > limitS) plant.lost(port, `no valid frame for ${limitS} s`);
      else this.schedule(undefined, everyMs);
    }, everyMs);
  }

  /** A valid frame: the link is (still) up. */
  private heard(): void {
    this.lastHeardMs = this.scheduler.now();
    if (this.state !== 'opening') return;
    this.state = 'up';
    this.backoffS = this.cfg.reopen_backoff.min;
    if (this.everUp) {
      this.count.reopens++;
      this.log.info({ path: this.path, reopens: this.count.reopens }, 'serial link up again');
    } else {
      this.log.info({ path: this.path, baud: this.cfg.baud, framing: this.cfg.framing, session: this.session }, 'serial link up');
    }
    this.everUp = true;
    this.events.next({ kind: 'link_up', detail: this.path });
  }

  /** The port failed, closed, or went quiet: close it, report the link down (if it was up), and start reopening. */
  private lost(port: SerialByteStream, why: string): void {
    if (this.port !== port || (this.state !== 'up' && this.state !== 'opening')) return; // handled, or closing on purpose
    const wasUp = this.state === 'up';
    this.port = undefined;
    this.state = 'down';
    this.watchdog?.unsubscribe();
    this.watchdog = undefined;
    port.removeAllListeners('data');
    port.on('error', () => {}); // a dying port may still report; it must not crash the daemon
    void closeQuietly(port);
    if (wasUp) {
      this.log.warn({ path: this.path, reason: why }, 'serial link down; the robot holds its safe action; reopening');
      this.events.next({ kind: 'link_down', detail: `${this.path}: ${why}` });
    } else {
      this.log.debug({ path: this.path, reason: why }, 'robot not heard after opening; retrying');
    }
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    const delayS = this.backoffS;
    this.backoffS = Math.min(2 * this.backoffS, this.cfg.reopen_backoff.max);
    this.retry = this.scheduler.schedule(() => void this.tryReopen(), delayS * 1000);
  }

  private async tryReopen(): Promise<void> {
    if (this.state !== 'down') return;
    let port: SerialByteStream;
    let path: string;
    try {
      path = await resolvePortPath(this.cfg.port, this.opts.portOverride, this.ports);
      port = await this.ports.open(path, this.cfg.baud);
    } catch (err) {
      if (this.state !== 'down') return;
      this.log.debug({ reason: (err as Error).message }, 'serial reopen failed; retrying');
      this.scheduleReopen();
      return;
    }
    if (this.state !== 'down') {
      await closeQuietly(port); // closed while we were opening
      return;
    }
    this.attach(port, path);
  }

  /**
   * A valid frame: taken, then the link is (still) up. In that order: the first frame of a
   * rebooted robot must report its robot_restart before the link_up it may bring, or the
   * safety layer re-sends its arming on the link_up and arms a robot that came up disarmed.
   */
  private onMessage(msg: SerialMessage): void {
    this.take(msg);
    this.heard();
  }

  private take(msg: SerialMessage): void {
    if (msg.type === 'estop') {
      // Always honoured, whatever its sequence: an e-stop is never dropped for ordering.
      this.log.warn({ source: msg.source }, 'e-stop from the robot');
      this.events.next({ kind: 'estop', source: msg.source });
      return;
    }
    if (msg.type !== 'state') return this.drop('unexpected_type');
    const channel = this.channelsById.get(msg.channel);
    if (channel === undefined) return this.drop('unknown_channel');
    if (msg.values.length !== channel.width) return this.drop('bad_length');
    const order = this.sequence.accept(msg.session, msg.seq);
    if (order === 'duplicate_or_old') return this.drop('duplicate_or_old');
    if (order === 'new_session') this.stamps.robotRestarted(`new session ${msg.session}`);
    const stamp = this.stamps.judge(channel.name, msg.stamp, this.clock());
    if (stamp === null) return;
    this.count.observations++;
    this.obs.next({ channel: channel.name, stamp, values: msg.values });
  }

  private drop(reason: string): void {
    this.count.dropped[reason] = (this.count.dropped[reason] ?? 0) + 1;
    this.events.next({ kind: 'frame_dropped', reason });
  }
}

function closeQuietly(port: SerialByteStream): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) return resolve();
    port.close(() => resolve());
  });
}
