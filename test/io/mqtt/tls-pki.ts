import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Throwaway TLS and password files for a private Mosquitto: a CA, a server certificate for
 * 127.0.0.1/localhost signed by it, and a password file with one user. Made fresh per test run
 * with openssl and mosquitto_passwd, so no key material lives in the repo.
 */
export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly passwordFile: string;
  /** The Mosquitto lines for a TLS listener that takes only this user (see startBroker's listenerConfig). */
  readonly listenerConfig: readonly string[];
  remove(): void;
}

/** An executable on PATH or in the sbin folders, or undefined. */
export function findTool(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

export function makeTestPki(tools: { openssl: string; mosquittoPasswd: string }, user: { name: string; password: string }): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'mpcd-mqtt-tls-'));
  const f = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync(tools.openssl, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    // EC keys: a fraction of the time of RSA, and every TLS stack here speaks P-256.
    const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl('req', '-x509', ...ecKey, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=mpcd test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    openssl('req', ...ecKey, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
    // Node checks the IP against subjectAltName, not the CN, when it connects to 127.0.0.1.
    writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '1', '-extfile', f('server.ext'));
    execFileSync(tools.mosquittoPasswd, ['-b', '-c', f('passwd'), user.name, user.password], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
    throw new Error(`could not make the test CA, server certificate or password file: ${(err as Error).message} ${stderr}`);
  }
  return {
    dir,
    caFile: f('ca.pem'),
    certFile: f('server.pem'),
    keyFile: f('server.key'),
    passwordFile: f('passwd'),
    listenerConfig: [
      `cafile ${f('ca.pem')}`,
      `certfile ${f('server.pem')}`,
      `keyfile ${f('server.key')}`,
      'allow_anonymous false',
      `password_file ${f('passwd')}`,
      // Run as root, Mosquitto drops to its own user before reading these files, which sit in a 0700 temp dir.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
    ],
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
