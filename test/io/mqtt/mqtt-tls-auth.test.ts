import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MpcdError } from '../../../src/core/errors.js';
import type { CommandEnvelope } from '../../../src/io/command-envelope.js';
import { loadMqttCredentials } from '../../../src/io/mqtt/mqtt-auth.js';
import { resolveMqttLayout } from '../../../src/io/mqtt/mqtt-layout.js';
import { MqttPlant } from '../../../src/io/mqtt/mqtt-plant.js';
import type { Observation } from '../../../src/io/plant.js';
import { MqttRobotLink } from '../../../sim/links/mqtt-robot-link.js';
import { mosquittoBinary, startBroker, type TestBroker } from './broker.js';
import { ACTION_NAMES, PERIOD, quietLog, STATE_NAMES, testConfig, waitUntil } from './fixtures.js';
import { findTool, makeTestPki, type TestPki } from './tls-pki.js';

/**
 * The TLS and username/password options against a real Mosquitto with a TLS listener that
 * refuses anonymous clients: the happy path both ways, and each way a deployment gets it wrong.
 */

const USER = 'mpcd';
const PASSWORD = 'correct horse battery staple';
// Named per process, so parallel test files never share them.
const PASSWORD_ENV = `MPCD_TEST_MQTT_PASSWORD_${process.pid}`;
const WRONG_PASSWORD_ENV = `MPCD_TEST_MQTT_WRONG_PASSWORD_${process.pid}`;
const UNSET_ENV = `MPCD_TEST_MQTT_UNSET_PASSWORD_${process.pid}`;

const tools = { openssl: findTool('openssl'), mosquittoPasswd: findTool('mosquitto_passwd'), mosquitto: mosquittoBinary() };
const missing = Object.entries(tools).filter(([, path]) => path === undefined).map(([name]) => name);
const skip = missing.length > 0 ? `needs ${missing.join(', ')} (not found on PATH or in /usr/sbin, or MPCD_TEST_BROKER=aedes); install openssl and mosquitto (mosquitto-clients is not enough)` : false;

let pki: TestPki | undefined;
let broker: TestBroker | undefined;
let url = '';

describe('MQTT plant over TLS with a username and password (real Mosquitto)', { skip, timeout: 20_000 }, () => {
  before(async () => {
    pki = makeTestPki({ openssl: tools.openssl!, mosquittoPasswd: tools.mosquittoPasswd! }, { name: USER, password: PASSWORD });
    const listenerConfig = pki.listenerConfig;
    broker = await startBroker({ listenerConfig: () => listenerConfig });
    url = `mqtts://127.0.0.1:${broker.port}`;
    process.env[PASSWORD_ENV] = PASSWORD;
    process.env[WRONG_PASSWORD_ENV] = `${PASSWORD}!`;
    delete process.env[UNSET_ENV];
  });
  after(async () => {
    delete process.env[PASSWORD_ENV];
    delete process.env[WRONG_PASSWORD_ENV];
    await broker?.stop();
    pki?.remove();
  });

  /** A config for this broker: TLS trusting the test CA unless `tls` says otherwise, and the user's credentials. */
  const tlsConfig = (overrides: Partial<Record<string, unknown>> = {}) =>
    testConfig(url, 'json', { tls: { ca: pki!.caFile, reject_unauthorized: true }, username: USER, password_env: PASSWORD_ENV, ...overrides });
  const connectPlant = (cfg: ReturnType<typeof tlsConfig>) => MqttPlant.connect(cfg, { stateNames: STATE_NAMES, actionNames: ACTION_NAMES, controlPeriod: PERIOD, log: quietLog });

  it('connects with the CA and the password from the named variable, and carries readings and commands both ways', async () => {
    const cfg = tlsConfig();
    const plant = await connectPlant(cfg);
    let robot: MqttRobotLink | undefined;
    try {
      assert.equal(plant.url, url);
      assert.ok(plant.connected);
      // The robot side loads its credentials the same way, so both ends of the link go through TLS and the password file.
      const credentials = loadMqttCredentials(cfg, url);
      assert.equal(credentials.password, PASSWORD);
      assert.ok(credentials.tls?.ca !== undefined && credentials.tls.rejectUnauthorized);
      const presence: string[] = [];
      plant.events$.subscribe((e) => {
        if (e.kind === 'link_up') presence.push(e.detail);
      });
      robot = await MqttRobotLink.connect(url, { layout: resolveMqttLayout(cfg, STATE_NAMES), credentials, connectTimeout: 5, log: quietLog });
      await waitUntil(() => presence.some((d) => d.startsWith('robot online')), 'robot presence at the daemon');

      const seen: Observation[] = [];
      plant.observations$.subscribe((o) => seen.push(o));
      robot.publish({ channel: 'pole', stamp: 2.5, values: [0.25, -1.5] });
      await waitUntil(() => seen.length === 1, 'a reading over TLS');
      assert.equal(seen[0]?.channel, 'pole');
      assert.ok(Number.isFinite(seen[0]?.stamp), 'a stamp on the daemon clock');
      assert.deepEqual(Array.from(seen[0]!.values), [0.25, -1.5]);

      const commands: CommandEnvelope[] = [];
      robot.commands$.subscribe((c) => commands.push(c));
      plant.send(Float32Array.of(0.75));
      await waitUntil(() => commands.length === 1, 'a command over TLS');
      assert.deepEqual(commands[0]?.u, [0.75]);
      assert.equal(commands[0]?.seq, 1);
      assert.equal(plant.dropped.total, 0);
    } finally {
      await robot?.close();
      await plant.close();
    }
  });

  it('refuses a wrong password with MQTT_AUTH naming the URL', async () => {
    await assert.rejects(connectPlant(tlsConfig({ password_env: WRONG_PASSWORD_ENV })), (err: unknown) => {
      assert.ok(err instanceof MpcdError, `expected an MpcdError, got ${String(err)}`);
      assert.equal(err.code, 'MQTT_AUTH');
      assert.ok(err.message.includes(url), err.message);
      return true;
    });
  });

  it('refuses a server certificate it cannot verify (no CA given) with MQTT_TLS naming the URL', async () => {
    await assert.rejects(connectPlant(tlsConfig({ tls: { reject_unauthorized: true } })), (err: unknown) => {
      assert.ok(err instanceof MpcdError, `expected an MpcdError, got ${String(err)}`);
      assert.equal(err.code, 'MQTT_TLS');
      assert.ok(err.message.includes(url), err.message);
      assert.match(err.message, /plant\.tls\.ca/, 'says what to fix');
      return true;
    });
  });

  it('names the password variable when it is not set', async () => {
    await assert.rejects(connectPlant(tlsConfig({ password_env: UNSET_ENV })), (err: unknown) => {
      assert.ok(err instanceof MpcdError, `expected an MpcdError, got ${String(err)}`);
      assert.equal(err.code, 'MQTT_AUTH');
      assert.ok(err.message.includes(UNSET_ENV), err.message);
      return true;
    });
  });
});
