import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createLogger } from '../../../src/telemetry/logger.js';

/**
 * A private MQTT broker for tests: Mosquitto on a free port of 127.0.0.1 with its own config in a
 * temp dir, or, where there is no mosquitto binary, an in-process aedes broker (logged, so a run
 * says which it used). No persistence: like a real restart without it, retained messages are gone
 * after `kill`/`restart`.
 */
export interface TestBroker {
  readonly url: string;
  readonly port: number;
  readonly kind: 'mosquitto' | 'aedes';
  /** Kills the broker hard (SIGKILL; aedes: drops every socket) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** kill() then start(). */
  restart(): Promise<void>;
  /** Freezes / thaws the broker process (SIGSTOP / SIGCONT): sockets stay open, nothing moves. Mosquitto only. */
  pause?(): void;
  resume?(): void;
  /** Stops for good and removes the temp dir. */
  stop(): Promise<void>;
}

const log = createLogger('test-broker');
/** MPCD_TEST_BROKER_LOG=1: Mosquitto logs every packet to stderr, for debugging a test. */
const verbose = process.env['MPCD_TEST_BROKER_LOG'] === '1';

export interface BrokerOptions {
  /**
   * Mosquitto only: lines that replace `allow_anonymous true` after the `listener` line (TLS files,
   * password_file, ...). `port` is the listener's. The broker's `url` stays mqtt://; build mqtts:// from `port`.
   */
  readonly listenerConfig?: (port: number) => readonly string[];
}

export async function startBroker(options: BrokerOptions = {}): Promise<TestBroker> {
  const port = await freePort();
  const binary = mosquittoBinary();
  if (binary !== undefined) return startMosquitto(binary, port, options.listenerConfig?.(port) ?? ['allow_anonymous true']);
  if (options.listenerConfig !== undefined) throw new Error('startBroker: listenerConfig needs mosquitto (see mosquittoBinary()); aedes cannot take it');
  log.warn('mosquitto not found on PATH or in /usr/sbin (or MPCD_TEST_BROKER=aedes); using an in-process aedes broker instead');
  return startAedes(port);
}

/** The mosquitto startBroker will run, or undefined when it will fall back to aedes (tests that need a real process skip then). */
export function mosquittoBinary(): string | undefined {
  // MPCD_TEST_BROKER=aedes forces the fallback, so it can be tested where mosquitto is installed.
  return process.env['MPCD_TEST_BROKER'] === 'aedes' ? undefined : findMosquitto();
}

/** PATH first, then the sbin folders Debian installs mosquitto into (not on a normal user's PATH). */
function findMosquitto(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, 'mosquitto');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function startMosquitto(binary: string, port: number, listenerConfig: readonly string[]): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'mpcd-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, ...listenerConfig, 'persistence false', 'log_dest stderr', ...(verbose ? ['log_type all'] : ['log_type error', 'log_type warning']), ''].join('\n'));
  let child: ChildProcess | undefined;
  const killOnExit = (): void => void child?.kill('SIGKILL');
  process.on('exit', killOnExit);

  const start = async (): Promise<void> => {
    const proc = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (verbose) process.stderr.write(d);
    });
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`mosquitto exited (code ${code}) before accepting connections: ${stderr.trim()}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port), exited]);
  };
  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGCONT'); // a paused broker must be able to die
    proc.kill('SIGKILL');
    await gone;
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    kind: 'mosquitto',
    kill,
    start,
    restart: async () => {
      await kill();
      await start();
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    stop: async () => {
      await kill();
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startAedes(port: number): Promise<TestBroker> {
  const { Aedes } = await import('aedes');
  let server: Server | undefined;
  let broker: Awaited<ReturnType<typeof Aedes.createBroker>> | undefined;
  const sockets = new Set<Socket>();
  const start = async (): Promise<void> => {
    const b = await Aedes.createBroker();
    broker = b;
    const s = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      b.handle(socket);
    });
    server = s;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
  };
  const kill = async (): Promise<void> => {
    const s = server;
    const b = broker;
    server = undefined;
    broker = undefined;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
    if (b !== undefined) await new Promise<void>((resolve) => b.close(() => resolve()));
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    kind: 'aedes',
    kill,
    start,
    restart: async () => {
      await kill();
      await start();
    },
    stop: kill,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`broker did not accept connections on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
