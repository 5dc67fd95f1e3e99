import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Subject, type Observable } from 'rxjs';
import type { MqttPlantConfig } from '../../config/mqtt-plant-schema.js';
import { MpcdError } from '../../core/errors.js';
import { createLogger } from '../../telemetry/logger.js';
import { codecFor, type PayloadCodec } from '../codecs/codecs.js';
import type { CommandEnvelope } from '../command-envelope.js';
import type { ControlStatus } from '../control-status.js';
import { goalMessageSchema, type GoalArrival, type GoalReport } from '../goal-message.js';
import type { ArmCommand, Observation, PlantEvent, PlantPort } from '../plant.js';
import { LinkStamps } from '../link-stamps.js';
import { DropCounter } from './drop-counter.js';
import { loadMqttCredentials } from './mqtt-auth.js';
import { MqttConnection, type MqttConnector, type MqttLinkConnection } from './mqtt-connection.js';
import { resolveMqttLayout, type MqttChannelLayout, type MqttLayout } from './mqtt-layout.js';
import {
  decodeMessage,
  decodeStateReading,
  estopMessageSchema,
  presenceSchema,
  type ArmMessage,
  type HeartbeatMessage,
  type PresenceMessage,
} from './payloads.js';

export interface MqttPlantOptions {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  /** s; the default command ttl is two of these. */
  readonly controlPeriod: number;
  /** From `--mqtt URL`; wins over plant.url. */
  readonly urlOverride?: string;
  /** The daemon's monotonic clock, s (stamps of commands and heartbeats); default performance.now. */
  readonly clock?: () => number;
  readonly log?: Logger;
  /** Opens the broker connection; default `MqttConnection.open` (tests pass an in-memory one to run in virtual time). */
  readonly connector?: MqttConnector;
}

/** What went over the link, and what did not. Messages dropped on the way in are in `dropped`. */
export interface MqttPlantCounters {
  messagesReceived: number;
  observations: number;
  commandsSent: number;
  /** Commands not published because the link was down: never queued, so never replayed. */
  commandsDroppedOffline: number;
  /** Actions with a NaN or infinite value, refused before encoding. */
  commandsNonFinite: number;
  armSent: number;
  armDroppedOffline: number;
  heartbeatsSent: number;
  heartbeatsDroppedOffline: number;
  estopsReceived: number;
  linkDowns: number;
  /** Control status messages published (status.rate). */
  statusSent: number;
}

/**
 * The robot behind an MQTT broker, as a PlantPort (topics and payloads: hardware/mqtt-contract.md).
 *
 * Readings arrive per channel and become observations; commands go out in a CommandEnvelope
 * (seq, stamp, ttl) at QoS 0, and only while connected: a command that cannot go now is dropped
 * and counted, never queued, because a late action is worse than none (the robot holds its safe
 * action when commands expire). Presence: a retained `online` on the daemon's status topic, and
 * a retained last will `offline` the broker publishes if the daemon vanishes.
 */
export class MqttPlant implements PlantPort {
  readonly channels: readonly { readonly name: string; readonly slots: readonly number[] }[];
  readonly observations$: Observable<Observation>;
  readonly events$: Observable<PlantEvent>;
  readonly goals$: Observable<GoalArrival>;
  readonly layout: MqttLayout;
  readonly url: string;
  /** Changes on every start; in every presence message, so the robot can tell a restarted daemon. */
  readonly session: string = randomUUID();
  /** s */
  readonly commandTtl: number;
  readonly counters: MqttPlantCounters = {
    messagesReceived: 0,
    observations: 0,
    commandsSent: 0,
    commandsDroppedOffline: 0,
    commandsNonFinite: 0,
    armSent: 0,
    armDroppedOffline: 0,
    heartbeatsSent: 0,
    heartbeatsDroppedOffline: 0,
    estopsReceived: 0,
    linkDowns: 0,
    statusSent: 0,
  };
  readonly dropped: DropCounter;

  private readonly observationSubject = new Subject<Observation>();
  private readonly eventSubject = new Subject<PlantEvent>();
  private readonly goalSubject = new Subject<GoalArrival>();
  private readonly codec: PayloadCodec;
  private readonly channelByTopic: Map<string, { layout: MqttChannelLayout; codec: PayloadCodec }>;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly actionDim: number;
  private readonly actionNames: readonly string[];
  private readonly stamps: LinkStamps;
  /** The robot's session, from its presence messages; a new one means it rebooted. */
  private robotSession: string | undefined;
  private connection: MqttLinkConnection | undefined;
  private messagesWired = false;
  private commandSeq = 0;
  private armSeq = 0;
  private heartbeatSeq = 0;
  private closed = false;

  private constructor(cfg: MqttPlantConfig, opts: MqttPlantOptions) {
    this.layout = resolveMqttLayout(cfg, opts.stateNames);
    this.url = opts.urlOverride ?? cfg.url;
    this.actionDim = opts.actionNames.length;
    this.actionNames = opts.actionNames;
    this.commandTtl = cfg.command_ttl ?? 2 * opts.controlPeriod;
    this.clock = opts.clock ?? (() => performance.now() / 1000);
    this.log = opts.log ?? createLogger('mqtt-plant');
    this.dropped = new DropCounter(this.log, 'mqtt plant');
    this.codec = codecFor(this.layout.codec);
    this.channels = this.layout.channels.map((c) => ({ name: c.name, slots: c.slots }));
    this.channelByTopic = new Map(this.layout.channels.map((c) => [c.topic, { layout: c, codec: codecFor(c.codec) }]));
    this.observations$ = this.observationSubject.asObservable();
    this.events$ = this.eventSubject.asObservable();
    this.goals$ = this.goalSubject.asObservable();
    this.stamps = new LinkStamps(cfg, opts.controlPeriod, this.log, (e) => this.eventSubject.next(e));
  }

  /**
   * Resolves once connected to the broker. Throws MpcdError 'MQTT_CONFIG' (channels do not fit the
   * model), 'MQTT_AUTH' / 'MQTT_TLS' (credentials), or 'MQTT_CONNECT' naming the URL after
   * plant.connect_timeout.
   */
  static async connect(cfg: MqttPlantConfig, opts: MqttPlantOptions): Promise<MqttPlant> {
    if (!(Number.isFinite(opts.controlPeriod) && opts.controlPeriod > 0)) {
      throw new MpcdError('MQTT_CONFIG', `control period must be a positive number of seconds, got ${opts.controlPeriod}`);
    }
    const plant = new MqttPlant(cfg, opts);
    const credentials = loadMqttCredentials(cfg, plant.url);
    const offline: PresenceMessage = { status: 'offline', session: plant.session };
    const open: MqttConnector = opts.connector ?? ((o) => MqttConnection.open(o));
    plant.connection = await open({
      url: plant.url,
      clientId: cfg.client_id,
      keepalive: cfg.keepalive,
      connectTimeout: cfg.connect_timeout,
      reconnect: cfg.reconnect,
      will: { topic: plant.layout.topics.daemonStatus, payload: plant.codec.encode(offline) },
      ...credentials,
      log: plant.log,
      onUp: (client) => plant.onUp(client),
      onDown: (detail) => plant.onDown(detail),
    });
    return plant;
  }

  get connected(): boolean {
    return this.connection?.connected ?? false;
  }

  /** Reconnect attempts since start. */
  get reconnectAttempts(): number {
    return this.connection?.reconnectAttempts ?? 0;
  }

  /** The seq the next command will carry (every send takes one, published or not). */
  get nextCommandSeq(): number {
    return this.commandSeq + 1;
  }

  send(action: Float32Array): void {
    if (this.closed) return;
    if (action.length !== this.actionDim) {
      throw new MpcdError('MQTT_ACTION', `send got an action of length ${action.length}; this plant takes ${this.actionDim}: ${this.actionNames.join(', ')}`);
    }
    // Every send takes a seq, so the robot sees a gap where commands were lost.
    this.commandSeq += 1;
    const u = Array.from(action);
    if (!u.every(Number.isFinite)) {
      this.counters.commandsNonFinite += 1;
      this.log.error({ seq: this.commandSeq, u }, 'mqtt plant: refused to send a non-finite action');
      return;
    }
    const envelope: CommandEnvelope = { seq: this.commandSeq, stamp: this.clock(), ttl: this.commandTtl, u };
    if (this.publishNow(this.layout.topics.command, envelope, 0)) this.counters.commandsSent += 1;
    else this.counters.commandsDroppedOffline += 1;
  }

  heartbeat(): void {
    if (this.closed) return;
    this.heartbeatSeq += 1;
    const msg: HeartbeatMessage = { seq: this.heartbeatSeq, stamp: this.clock() };
    if (this.publishNow(this.layout.topics.heartbeat, msg, 0)) this.counters.heartbeatsSent += 1;
    else this.counters.heartbeatsDroppedOffline += 1;
  }

  /** QoS 1 (the broker confirms), but like commands never queued while the link is down. */
  command(cmd: ArmCommand): void {
    if (this.closed) return;
    this.armSeq += 1;
    const msg: ArmMessage = { cmd, seq: this.armSeq, stamp: this.clock() };
    if (this.publishNow(this.layout.topics.arm, msg, 1)) {
      this.counters.armSent += 1;
      this.log.info({ cmd, seq: msg.seq }, 'mqtt plant: sent arm command');
    } else {
      this.counters.armDroppedOffline += 1;
      // The robot is on its own now: its heartbeat watchdog and the last will make it hold its safe action.
      this.log.error({ cmd }, 'mqtt plant: link down, arm command not sent');
    }
  }

  /** Publishes `offline` (retained), disconnects cleanly, and completes the streams. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const offline: PresenceMessage = { status: 'offline', session: this.session };
    await this.connection?.close((client) => client.publishAsync(this.layout.topics.daemonStatus, Buffer.from(this.codec.encode(offline)), { qos: 1, retain: true }).then(() => undefined));
    this.observationSubject.complete();
    this.eventSubject.complete();
    this.goalSubject.complete();
  }

  /**
   * For fault injection: drops the connection without a DISCONNECT, as a crash would, so the
   * broker publishes the last will. The plant is closed afterwards.
   */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection?.abort();
    this.observationSubject.complete();
    this.eventSubject.complete();
    this.goalSubject.complete();
  }

  private publishNow(topic: string, message: object, qos: 0 | 1, retain = false): boolean {
    const conn = this.connection;
    if (conn === undefined || !conn.connected) return false;
    conn.client.publish(topic, Buffer.from(this.codec.encode(message)), { qos, retain }, (err) => {
      if (err !== undefined && err !== null) this.log.debug({ topic, err: err.message }, 'mqtt plant: publish failed');
    });
    return true;
  }

  private onUp(client: MqttClient): void {
    const { topics } = this.layout;
    const subscriptions: Record<string, { qos: 0 | 1 }> = { [topics.estop]: { qos: 1 }, [topics.robotStatus]: { qos: 1 }, [topics.goal]: { qos: 1 } };
    for (const c of this.layout.channels) subscriptions[c.topic] = { qos: 0 };
    if (!this.messagesWired) {
      this.messagesWired = true;
      client.on('message', (topic, payload) => this.onMessage(topic, payload));
    }
    client.subscribe(subscriptions, (err) => {
      if (err) this.log.error({ err: err.message }, 'mqtt plant: subscribe failed; no readings will arrive');
    });
    const online: PresenceMessage = { status: 'online', session: this.session };
    client.publish(topics.daemonStatus, Buffer.from(this.codec.encode(online)), { qos: 1, retain: true });
    this.eventSubject.next({ kind: 'link_up', detail: `connected to ${this.url}` });
  }

  private onDown(detail: string): void {
    this.counters.linkDowns += 1;
    this.eventSubject.next({ kind: 'link_down', detail });
  }

  private onMessage(topic: string, payload: Uint8Array): void {
    if (this.closed) return;
    this.counters.messagesReceived += 1;
    const channel = this.channelByTopic.get(topic);
    if (channel !== undefined) return this.onReading(topic, channel.layout, channel.codec, payload);
    const { topics } = this.layout;
    if (topic === topics.estop) return this.onEstop(topic, payload);
    if (topic === topics.robotStatus) return this.onRobotPresence(topic, payload);
    if (topic === topics.goal) return this.onGoal(topic, payload);
    this.drop('unknown_topic', topic, 'no channel or control topic');
  }

  private onReading(topic: string, layout: MqttChannelLayout, codec: PayloadCodec, payload: Uint8Array): void {
    const reading = decodeStateReading(codec, layout, payload);
    if (!reading.ok) return this.drop(reading.reason, topic, reading.error);
    const stamp = this.stamps.judge(layout.name, reading.value.stamp, this.clock());
    if (stamp === null) return;
    this.counters.observations += 1;
    this.observationSubject.next({ channel: layout.name, stamp, values: reading.value.values });
  }

  /** Goals are judged by the session's GoalInbox; a malformed one is counted here too and still answered there. */
  private onGoal(topic: string, payload: Uint8Array): void {
    const receivedAt = this.clock();
    const msg = decodeMessage(this.codec, goalMessageSchema, payload);
    if (!msg.ok) this.drop(msg.reason, topic, msg.error);
    this.goalSubject.next(msg.ok ? { ok: true, goal: msg.value, receivedAt } : { ok: false, reason: msg.reason, error: msg.error, receivedAt });
  }

  /** Retained: a client that subscribes later learns the last answer and the goal in use. */
  reportGoal(report: GoalReport): void {
    this.publishNow(this.layout.topics.goalStatus, report, 1, true);
  }

  reportStatus(status: ControlStatus): void {
    if (this.publishNow(this.layout.topics.controlStatus, status, 0)) this.counters.statusSent += 1;
  }

  private onEstop(topic: string, payload: Uint8Array): void {
    const msg = decodeMessage(this.codec, estopMessageSchema, payload);
    let source = 'robot (unreadable e-stop message)';
    if (msg.ok) source = msg.value.source;
    // Fail safe: a garbled message on the e-stop topic is counted as malformed, and still obeyed.
    else this.drop(msg.reason, topic, `${msg.error} (treated as an e-stop)`);
    this.counters.estopsReceived += 1;
    this.log.error({ source }, 'mqtt plant: e-stop from the robot');
    this.eventSubject.next({ kind: 'estop', source });
  }

  private onRobotPresence(topic: string, payload: Uint8Array): void {
    const msg = decodeMessage(this.codec, presenceSchema, payload);
    if (!msg.ok) return this.drop(msg.reason, topic, msg.error);
    const { status, session } = msg.value;
    this.log.info({ status, session }, 'mqtt plant: robot presence');
    // Every boot publishes a new session (hardware/mqtt-contract.md): its clock and seq start
    // again, so its stamps are judged afresh at once, not after a clock step's worth of readings.
    // The first session seen (retained, at the daemon's start) is not a restart.
    if (status === 'online') {
      if (this.robotSession !== undefined && session !== this.robotSession) this.stamps.robotRestarted(`new session ${session}, was ${this.robotSession}`);
      this.robotSession = session;
    }
    this.eventSubject.next(
      msg.value.status === 'online'
        ? { kind: 'link_up', detail: `robot online (session ${msg.value.session})` }
        : { kind: 'link_down', detail: `robot offline (session ${msg.value.session})` },
    );
  }

  private drop(reason: Parameters<DropCounter['count']>[0], topic: string, error: string): void {
    this.dropped.count(reason, topic, error);
    this.eventSubject.next({ kind: 'frame_dropped', reason: `mqtt ${reason} (${topic})` });
  }
}
