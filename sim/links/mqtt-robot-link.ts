import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Subject, type Observable } from 'rxjs';
import { MpcdError } from '../../src/core/errors.js';
import { codecFor, type PayloadCodec } from '../../src/io/codecs/codecs.js';
import type { CommandEnvelope } from '../../src/io/command-envelope.js';
import { DropCounter, type MqttDropReason } from '../../src/io/mqtt/drop-counter.js';
import type { MqttCredentials } from '../../src/io/mqtt/mqtt-auth.js';
import { MqttConnection } from '../../src/io/mqtt/mqtt-connection.js';
import type { MqttChannelLayout, MqttLayout } from '../../src/io/mqtt/mqtt-layout.js';
import { writeField } from '../../src/io/mqtt/field-path.js';
import {
  armMessageSchema,
  commandEnvelopeSchema,
  heartbeatSchema,
  presenceSchema,
  validate,
  type EstopMessage,
  type PresenceMessage,
} from '../../src/io/mqtt/payloads.js';
import type { ArmCommand, Observation, PlantEvent } from '../../src/io/plant.js';
import { createLogger } from '../../src/telemetry/logger.js';
import type { OutgoingBytesHook, RobotLink } from '../robot-link.js';

export interface MqttRobotLinkOptions {
  /** The same layout the daemon uses: resolveMqttLayout(plantConfig, stateNames). */
  readonly layout: MqttLayout;
  readonly clientId?: string;
  /** s; default 5 */
  readonly keepalive?: number;
  /** s; default 10 */
  readonly connectTimeout?: number;
  /** s; default 0.2 .. 5 */
  readonly reconnect?: { readonly min: number; readonly max: number };
  readonly credentials?: MqttCredentials;
  /** Applied to every encoded reading and e-stop right before publish (not to presence). */
  readonly outgoing?: OutgoingBytesHook;
  /** The robot's monotonic clock, s (e-stop stamps); default performance.now. */
  readonly clock?: () => number;
  readonly log?: Logger;
}

export interface MqttRobotLinkCounters {
  readingsSent: number;
  /** Readings not published because the link was down (never queued) or dropped by the hook. */
  readingsDropped: number;
  estopsSent: number;
  commandsReceived: number;
}

/**
 * The robot's side of the MQTT contract (hardware/mqtt-contract.md), for the virtual robot and HIL
 * rigs: commands, arm requests and heartbeats in; readings and e-stops out; retained presence
 * `online` with last will `offline` on the robot's status topic. It decodes and validates but
 * applies no policy: the robot puts a CommandGate on `commands$` and watches `daemonPresence$`.
 */
export class MqttRobotLink implements RobotLink {
  readonly commands$: Observable<CommandEnvelope>;
  readonly arm$: Observable<ArmCommand>;
  readonly heartbeats$: Observable<number>;
  /** The daemon's retained presence; a new `session` means the daemon restarted (reset the CommandGate). */
  readonly daemonPresence$: Observable<PresenceMessage>;
  /** link_up / link_down of this client's own broker connection. */
  readonly events$: Observable<PlantEvent>;
  readonly dropped: { count: number } = { count: 0 };
  readonly counters: MqttRobotLinkCounters = { readingsSent: 0, readingsDropped: 0, estopsSent: 0, commandsReceived: 0 };
  readonly drops: DropCounter;

  private readonly commandSubject = new Subject<CommandEnvelope>();
  private readonly armSubject = new Subject<ArmCommand>();
  private readonly heartbeatSubject = new Subject<number>();
  private readonly presenceSubject = new Subject<PresenceMessage>();
  private readonly eventSubject = new Subject<PlantEvent>();
  private readonly codec: PayloadCodec;
  private readonly channelByName: Map<string, { layout: MqttChannelLayout; codec: PayloadCodec }>;
  private readonly clock: () => number;
  private readonly log: Logger;
  private connection: MqttConnection | undefined;
  private wiredClient: MqttClient | undefined; // the client whose messages are delivered (this boot's)
  private sessionId: string = randomUUID();
  private powered = true;
  private closed = false;

  private constructor(
    readonly url: string,
    private readonly opts: MqttRobotLinkOptions,
  ) {
    this.codec = codecFor(opts.layout.codec);
    this.channelByName = new Map(opts.layout.channels.map((c) => [c.name, { layout: c, codec: codecFor(c.codec) }]));
    this.clock = opts.clock ?? (() => performance.now() / 1000);
    this.log = opts.log ?? createLogger('mqtt-robot-link');
    this.drops = new DropCounter(this.log, 'mqtt robot link');
    this.commands$ = this.commandSubject.asObservable();
    this.arm$ = this.armSubject.asObservable();
    this.heartbeats$ = this.heartbeatSubject.asObservable();
    this.daemonPresence$ = this.presenceSubject.asObservable();
    this.events$ = this.eventSubject.asObservable();
  }

  /** Resolves once connected; rejects with MpcdError 'MQTT_CONNECT' naming the URL after the timeout. */
  static async connect(url: string, opts: MqttRobotLinkOptions): Promise<MqttRobotLink> {
    const link = new MqttRobotLink(url, opts);
    await link.open();
    return link;
  }

  /** The session of this boot, in every presence message. */
  get session(): string {
    return this.sessionId;
  }

  /** One boot's connection: its last will and client id carry this boot's session. */
  private async open(): Promise<void> {
    const { opts } = this;
    const offline: PresenceMessage = { status: 'offline', session: this.sessionId };
    const connection = await MqttConnection.open({
      url: this.url,
      clientId: opts.clientId ?? `mpcd-robot-${this.sessionId.slice(0, 8)}`,
      keepalive: opts.keepalive ?? 5,
      connectTimeout: opts.connectTimeout ?? 10,
      reconnect: opts.reconnect ?? { min: 0.2, max: 5 },
      will: { topic: opts.layout.topics.robotStatus, payload: this.codec.encode(offline) },
      ...(opts.credentials ?? {}),
      log: this.log,
      onUp: (client) => this.onUp(client),
      onDown: (detail) => this.eventSubject.next({ kind: 'link_down', detail }),
    });
    // Powered off (or closed) while it connected: this boot is over before it began.
    if (this.closed || !this.powered) connection.abort();
    else this.connection = connection;
  }

  get connected(): boolean {
    return this.connection?.connected ?? false;
  }

  /** `obs.values` fill the channel's fields in order. Values are sent as they are (NaN included: fault tests need that). */
  publish(obs: Observation): void {
    if (this.closed) return;
    const channel = this.channelByName.get(obs.channel);
    if (channel === undefined) throw new MpcdError('MQTT_CHANNEL', `no MQTT channel named '${obs.channel}'; channels: ${[...this.channelByName.keys()].join(', ')}`);
    const { layout, codec } = channel;
    if (obs.values.length !== layout.fields.length) {
      throw new MpcdError('MQTT_CHANNEL', `channel '${obs.channel}' has ${layout.fields.length} fields, got ${obs.values.length} values`);
    }
    const message: Record<string, unknown> = {};
    writeField(message, layout.stamp, obs.stamp);
    for (let i = 0; i < layout.fields.length; i++) writeField(message, layout.fields[i]!, obs.values[i]);
    if (this.publishBytes(layout.topic, codec.encode(message), 0)) this.counters.readingsSent += 1;
    else this.counters.readingsDropped += 1;
  }

  estop(source: string): void {
    if (this.closed) return;
    const message: EstopMessage = { source, stamp: this.clock() };
    if (this.publishBytes(this.opts.layout.topics.estop, this.codec.encode(message), 1)) this.counters.estopsSent += 1;
    else this.log.error({ source }, 'mqtt robot link: link down, e-stop not sent to the daemon');
  }

  /** Publishes `offline` (retained) and disconnects cleanly. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const offline: PresenceMessage = { status: 'offline', session: this.sessionId };
    await this.connection?.close((client) => client.publishAsync(this.opts.layout.topics.robotStatus, Buffer.from(this.codec.encode(offline)), { qos: 1, retain: true }).then(() => undefined));
    this.completeAll();
  }

  powerOff(): void {
    if (this.closed || !this.powered) return;
    this.powered = false;
    this.wiredClient = undefined;
    this.connection?.abort();
    this.connection = undefined;
  }

  async powerOn(): Promise<void> {
    if (this.closed || this.powered) return;
    this.powered = true;
    this.sessionId = randomUUID(); // hardware/mqtt-contract.md: new on every start
    await this.open();
  }

  /** For fault injection: drops the connection without a DISCONNECT (a robot losing power); the broker publishes the last will. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection?.abort();
    this.completeAll();
  }

  private publishBytes(topic: string, encoded: Uint8Array, qos: 0 | 1): boolean {
    const conn = this.connection;
    if (conn === undefined || !conn.connected) return false;
    const bytes = this.opts.outgoing === undefined ? encoded : this.opts.outgoing(encoded);
    if (bytes === null) return false;
    conn.client.publish(topic, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { qos, retain: false });
    return true;
  }

  private onUp(client: MqttClient): void {
    const { topics } = this.opts.layout;
    if (!this.powered) return;
    if (this.wiredClient !== client) {
      this.wiredClient = client;
      client.on('message', (topic, payload) => {
        if (client === this.wiredClient) this.onMessage(topic, payload);
      });
    }
    client.subscribe({ [topics.command]: { qos: 0 }, [topics.heartbeat]: { qos: 0 }, [topics.arm]: { qos: 1 }, [topics.daemonStatus]: { qos: 1 } }, (err) => {
      if (err) this.log.error({ err: err.message }, 'mqtt robot link: subscribe failed');
    });
    const online: PresenceMessage = { status: 'online', session: this.sessionId };
    client.publish(topics.robotStatus, Buffer.from(this.codec.encode(online)), { qos: 1, retain: true });
    this.eventSubject.next({ kind: 'link_up', detail: `connected to ${this.url}` });
  }

  private onMessage(topic: string, payload: Uint8Array): void {
    if (this.closed) return;
    const { topics } = this.opts.layout;
    const decoded = this.codec.decode(payload);
    if (!decoded.ok) return this.drop('decode', topic, decoded.error);
    if (topic === topics.command) {
      const msg = validate(commandEnvelopeSchema, decoded.value);
      if (!msg.ok) return this.drop(msg.reason, topic, msg.error);
      this.counters.commandsReceived += 1;
      this.commandSubject.next(msg.value);
    } else if (topic === topics.arm) {
      const msg = validate(armMessageSchema, decoded.value);
      if (!msg.ok) return this.drop(msg.reason, topic, msg.error);
      this.armSubject.next(msg.value.cmd);
    } else if (topic === topics.heartbeat) {
      const msg = validate(heartbeatSchema, decoded.value);
      if (!msg.ok) return this.drop(msg.reason, topic, msg.error);
      this.heartbeatSubject.next(msg.value.stamp);
    } else if (topic === topics.daemonStatus) {
      const msg = validate(presenceSchema, decoded.value);
      if (!msg.ok) return this.drop(msg.reason, topic, msg.error);
      this.presenceSubject.next(msg.value);
    } else {
      this.drop('unknown_topic', topic, 'not a daemon topic');
    }
  }

  private drop(reason: MqttDropReason, topic: string, error: string): void {
    this.drops.count(reason, topic, error);
    this.dropped.count += 1;
  }

  private completeAll(): void {
    for (const s of [this.commandSubject, this.armSubject, this.heartbeatSubject, this.presenceSubject, this.eventSubject]) s.complete();
  }
}
