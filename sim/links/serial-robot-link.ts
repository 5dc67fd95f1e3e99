import { randomInt } from 'node:crypto';
import { asyncScheduler, Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { MpcdError } from '../../src/core/errors.js';
import type { CommandEnvelope } from '../../src/io/command-envelope.js';
import type { ArmCommand, Observation } from '../../src/io/plant.js';
import { MessageReader } from '../../src/io/serial/message-reader.js';
import type { SerialMessage } from '../../src/io/serial/messages.js';
import { nodeSerialPorts, type SerialByteStream, type SerialPorts } from '../../src/io/serial/serial-ports.js';
import { wireFormat, type Framing, type WireFormat } from '../../src/io/serial/wire-format.js';
import type { OutgoingBytesHook, RobotLink } from '../robot-link.js';

export interface SerialRobotLinkOptions {
  readonly framing: Framing;
  readonly baud?: number;
  /** The STATE channel ids, by the Observation channel names the virtual robot publishes. */
  readonly channels: readonly { readonly id: number; readonly name: string }[];
  /** Applied to every encoded frame right before it is written (fault injection). */
  readonly outgoing?: OutgoingBytesHook;
  /** The robot's session id on the wire at its first boot; default random (a new random one at each powerOn). */
  readonly session?: number;
  /** Robot monotonic clock, seconds, stamping its e-stop messages; default performance.now() / 1000. */
  readonly clock?: () => number;
  /** Wait between reopen attempts after the port goes away, ms; default 100. */
  readonly reopenDelayMs?: number;
  readonly scheduler?: SchedulerLike;
  readonly ports?: SerialPorts;
}

/**
 * The robot's side of the serial protocol (hardware/protocol.md), for the virtual robot: it
 * opens one end of a pty pair (socat) as the firmware would own the UART. Like a board that
 * stays powered while its cable is pulled, it keeps its session and sequence across a lost
 * port and reopens the same path until closed; publishing while the port is gone is dropped.
 * A power cycle (powerOff, powerOn) is a new boot: silent meanwhile, then a new session, seq 0.
 */
export class SerialRobotLink implements RobotLink {
  readonly commands$: Observable<CommandEnvelope>;
  readonly arm$: Observable<ArmCommand>;
  readonly heartbeats$: Observable<number>;
  /** The daemon's session id, each time a new one is seen: reset the CommandGate then. */
  readonly daemonSession$: Observable<number>;
  readonly dropped = { count: 0 };
  /** Times the port was reopened after it went away. */
  reopens = 0;

  private readonly commands = new Subject<CommandEnvelope>();
  private readonly arm = new Subject<ArmCommand>();
  private readonly heartbeats = new Subject<number>();
  private readonly sessions = new Subject<number>();
  private readonly format: WireFormat;
  private readonly reader: MessageReader;
  private readonly channelIds: ReadonlyMap<string, number>;
  private readonly clock: () => number;
  private readonly scheduler: SchedulerLike;
  private readonly ports: SerialPorts;
  private port: SerialByteStream | undefined;
  private closed = false;
  private powered = true;
  private sessionId: number;
  private seq = 0;
  private daemonSession: number | undefined;
  private retry: Subscription | undefined;

  private constructor(
    private readonly path: string,
    private readonly opts: SerialRobotLinkOptions,
  ) {
    this.format = wireFormat(opts.framing);
    this.reader = new MessageReader(this.format, (m) => this.onMessage(m), () => this.dropped.count++);
    this.channelIds = new Map(opts.channels.map((c) => [c.name, c.id]));
    this.clock = opts.clock ?? (() => performance.now() / 1000);
    this.scheduler = opts.scheduler ?? asyncScheduler;
    this.ports = opts.ports ?? nodeSerialPorts;
    this.sessionId = opts.session ?? randomInt(0, 0xffffffff);
    this.commands$ = this.commands.asObservable();
    this.arm$ = this.arm.asObservable();
    this.heartbeats$ = this.heartbeats.asObservable();
    this.daemonSession$ = this.sessions.asObservable();
  }

  /** Opens `path` (one end of the pty pair); throws MpcdError SERIAL_OPEN if it cannot. */
  static async open(path: string, opts: SerialRobotLinkOptions): Promise<SerialRobotLink> {
    const link = new SerialRobotLink(path, opts);
    try {
      link.attach(await link.ports.open(path, opts.baud ?? 115200));
    } catch (err) {
      throw new MpcdError('SERIAL_OPEN', `the virtual robot cannot open ${path}: ${(err as Error).message}; is socat running with this link name?`);
    }
    return link;
  }

  get linkUp(): boolean {
    return this.port !== undefined;
  }

  /** The session id of this boot. */
  get session(): number {
    return this.sessionId;
  }

  publish(obs: Observation): void {
    const channel = this.channelIds.get(obs.channel);
    if (channel === undefined) {
      throw new MpcdError('SERIAL_CHANNEL', `no channel id for '${obs.channel}'; add it to the link's channels (${[...this.channelIds.keys()].join(', ')})`);
    }
    this.write({ type: 'state', session: this.sessionId, seq: this.seq, stamp: obs.stamp, channel, values: Array.from(obs.values) });
  }

  estop(source: string): void {
    this.write({ type: 'estop', session: this.sessionId, seq: this.seq, stamp: this.clock(), source });
  }

  powerOff(): void {
    this.powered = false;
    this.reader.reset(); // a board without power keeps no half-read frame
  }

  async powerOn(): Promise<void> {
    if (this.powered) return;
    // protocol.md: a session id is random per boot; never the last one, or the daemon could not tell.
    let next = randomInt(0, 0xffffffff);
    while (next === this.sessionId) next = randomInt(0, 0xffffffff);
    this.sessionId = next;
    this.seq = 0;
    this.daemonSession = undefined;
    this.powered = true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retry?.unsubscribe();
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    for (const s of [this.commands, this.arm, this.heartbeats, this.sessions]) s.complete();
  }

  private write(msg: SerialMessage): void {
    if (this.port === undefined || this.closed || !this.powered) return;
    this.seq = (this.seq + 1) >>> 0;
    // Unchecked: a sensor fault (NaN) goes on the wire as a faulty robot would send it.
    const encoded = this.format.encode(msg, true);
    const bytes = this.opts.outgoing ? this.opts.outgoing(encoded) : encoded;
    if (bytes !== null) this.port.write(bytes);
  }

  private attach(port: SerialByteStream): void {
    this.port = port;
    this.reader.reset();
    port.on('data', (chunk: Buffer) => {
      if (this.port === port && this.powered) this.reader.push(chunk);
    });
    const lost = (): void => {
      if (this.port !== port) return;
      this.port = undefined;
      port.on('error', () => {});
      if (port.isOpen) port.close(() => {});
      if (!this.closed) this.scheduleReopen();
    };
    port.on('error', lost);
    port.on('close', lost);
  }

  private scheduleReopen(): void {
    this.retry = this.scheduler.schedule(() => {
      if (this.closed) return;
      this.ports.open(this.path, this.opts.baud ?? 115200).then(
        (port) => {
          if (this.closed) port.close(() => {});
          else {
            this.reopens++;
            this.attach(port);
          }
        },
        () => {
          if (!this.closed) this.scheduleReopen();
        },
      );
    }, this.opts.reopenDelayMs ?? 100);
  }

  private onMessage(msg: SerialMessage): void {
    if (msg.type === 'state') {
      this.dropped.count++; // the robot's own message type coming back: a miswired loopback
      return;
    }
    if (msg.session !== this.daemonSession) {
      this.daemonSession = msg.session;
      this.sessions.next(msg.session);
    }
    switch (msg.type) {
      case 'command':
        this.commands.next({ seq: msg.seq, stamp: msg.stamp, ttl: msg.ttl, u: msg.u });
        break;
      case 'heartbeat':
        this.heartbeats.next(msg.stamp);
        break;
      default:
        this.arm.next(msg.type);
    }
  }
}
