import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { MpcdError } from '../../core/errors.js';

export interface MqttConnectionOptions {
  readonly url: string;
  readonly clientId: string;
  /** s */
  readonly keepalive: number;
  /** s to wait for the first connection before `open` rejects. */
  readonly connectTimeout: number;
  /** Backoff between reconnect attempts: min, doubling up to max, s. */
  readonly reconnect: { readonly min: number; readonly max: number };
  /** Retained last will, published by the broker if this client vanishes without a clean disconnect. */
  readonly will: { readonly topic: string; readonly payload: Uint8Array };
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer; readonly rejectUnauthorized: boolean } | undefined;
  readonly log: Logger;
  /** Every (re)connect: subscribe and publish presence here (the session is clean each time). */
  readonly onUp: (client: MqttClient) => void;
  /** The connection was lost (not called for our own close). */
  readonly onDown: (detail: string) => void;
}

/** What a plant needs of its connection; `MqttConnection.open` makes the real one, tests may make their own. */
export interface MqttLinkConnection {
  readonly client: MqttClient;
  readonly connected: boolean;
  readonly reconnectAttempts: number;
  close(last?: (client: MqttClient) => Promise<void>): Promise<void>;
  abort(): void;
}

export type MqttConnector = (opts: MqttConnectionOptions) => Promise<MqttLinkConnection>;

/**
 * One MQTT client with the policy both sides of the link share: clean session, nothing queued
 * while offline (mqtt.js's offline queue is off for QoS 0 and its outgoing store is replaced on
 * every reconnect, so a reconnect never replays old messages), and reconnects with capped
 * exponential backoff. mqtt.js's own reconnect timer has a fixed period, so it is off
 * (reconnectPeriod 0) and the backoff is ours.
 */
export class MqttConnection implements MqttLinkConnection {
  /** Reconnect attempts made since the first connection. */
  reconnectAttempts = 0;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private closing = false;
  private wasUp = false;

  private constructor(
    readonly client: MqttClient,
    private readonly opts: MqttConnectionOptions,
  ) {}

  /**
   * Connects and resolves once the broker accepted the connection. Rejects with MpcdError
   * 'MQTT_CONNECT' naming the URL after `connectTimeout`, or at once when the broker refuses the
   * credentials ('MQTT_AUTH') or the TLS handshake fails, e.g. an unverifiable certificate ('MQTT_TLS').
   */
  static open(opts: MqttConnectionOptions): Promise<MqttConnection> {
    const clientOptions: IClientOptions = {
      clientId: opts.clientId,
      clean: true,
      keepalive: opts.keepalive,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      connectTimeout: Math.max(1000, Math.round(opts.connectTimeout * 1000)),
      protocolVersion: 4,
      will: { topic: opts.will.topic, payload: Buffer.from(opts.will.payload), qos: 1, retain: true },
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      ...(opts.tls !== undefined ? { ...opts.tls } : {}),
    };
    const client = connect(opts.url, clientOptions);
    const conn = new MqttConnection(client, opts);
    return new Promise((resolve, reject) => {
      let lastError = 'no answer';
      // A real timer: mqtt.js runs on real sockets and timers, so virtual time cannot drive it.
      const timeout = setTimeout(() => fail(new MpcdError('MQTT_CONNECT', `could not connect to the MQTT broker at ${opts.url} within ${opts.connectTimeout} s (${lastError}); check that the broker runs and the URL (plant.url or --mqtt URL) is right`)), opts.connectTimeout * 1000);
      const fail = (err: MpcdError): void => {
        clearTimeout(timeout);
        client.removeListener('connect', onFirstConnect);
        conn.closing = true;
        conn.clearRetry();
        client.end(true);
        reject(err);
      };
      const onFirstConnect = (): void => {
        clearTimeout(timeout);
        client.removeListener('error', onEarlyError);
        resolve(conn);
      };
      const onEarlyError = (err: Error & { code?: unknown }): void => {
        lastError = err.message;
        if (err.code === 4 || err.code === 5) {
          client.removeListener('error', onEarlyError);
          fail(new MpcdError('MQTT_AUTH', `the MQTT broker at ${opts.url} refused the connection (${err.message}); check plant.username and the variable named by plant.password_env`));
        } else if (isTlsFailure(err)) {
          // A certificate we cannot verify stays unverifiable: retrying until connect_timeout only hides the cause.
          client.removeListener('error', onEarlyError);
          fail(new MpcdError('MQTT_TLS', `TLS with the MQTT broker at ${opts.url} failed (${err.message}); check that plant.tls.ca is the CA that signed the broker's certificate, that the certificate names the URL's host, and that the port speaks TLS`));
        }
      };
      client.on('error', onEarlyError);
      client.once('connect', onFirstConnect);
      conn.wire();
    });
  }

  get connected(): boolean {
    return this.client.connected && !this.closing;
  }

  /** Publishes (and resolves) first what `last` sends, then disconnects cleanly: no last will. */
  async close(last?: (client: MqttClient) => Promise<void>): Promise<void> {
    if (this.closing) return;
    this.clearRetry();
    if (last !== undefined && this.client.connected) {
      try {
        await last(this.client);
      } catch (err) {
        this.opts.log.warn({ err }, 'mqtt: final message not sent');
      }
    }
    this.closing = true;
    // Not connected: there is no one to say DISCONNECT to, and mqtt.js would queue it until a reconnect that never comes.
    await this.client.endAsync(!this.client.connected);
  }

  /** Drops the socket without a DISCONNECT, as a crash or a pulled cable would: the broker publishes the last will. */
  abort(): void {
    this.closing = true;
    this.clearRetry();
    this.client.end(true);
  }

  private wire(): void {
    const { client, opts } = this;
    client.on('error', (err) => opts.log.debug({ err: err.message, url: opts.url }, 'mqtt: client error'));
    client.on('connect', () => {
      this.attempt = 0;
      this.wasUp = true;
      opts.log.info({ url: opts.url, clientId: opts.clientId }, 'mqtt: connected');
      opts.onUp(client);
    });
    client.on('close', () => {
      if (this.closing) return;
      if (this.wasUp) {
        this.wasUp = false;
        opts.log.warn({ url: opts.url }, 'mqtt: connection lost; reconnecting');
        opts.onDown(`lost the connection to ${opts.url}`);
      }
      this.scheduleRetry();
    });
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.closing) return;
    const { min, max } = this.opts.reconnect;
    const delay = Math.min(max, min * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closing) return;
      this.reconnectAttempts += 1;
      this.opts.log.debug({ url: this.opts.url, attempt: this.attempt }, 'mqtt: reconnecting');
      this.client.reconnect();
    }, delay * 1000);
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

/** Node's certificate-verification codes (SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, ...) and TLS/SSL handshake errors. */
function isTlsFailure(err: Error & { code?: unknown }): boolean {
  return typeof err.code === 'string' && /CERT|^UNABLE_TO_|^ERR_TLS_|^ERR_SSL_/.test(err.code);
}
