import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/** socat's path if it is installed, else null (the pty tests skip, saying so). */
export function findSocat(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v socat'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path !== '' ? path : null;
}

/**
 * A pty pair from socat, as a USB serial adapter with a robot on the other end would look.
 * `stop()` kills socat (the cable is pulled); `start()` again recreates the same link names
 * (the cable is plugged back in).
 */
export class SocatPair {
  private child: ChildProcess | undefined;

  constructor(
    private readonly socat: string,
    readonly robotPath: string,
    readonly daemonPath: string,
  ) {}

  async start(): Promise<void> {
    const child = spawn(this.socat, ['-d', '-d', `pty,raw,echo=0,link=${this.robotPath}`, `pty,raw,echo=0,link=${this.daemonPath}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`socat did not start in 5 s: ${log}`)), 5000);
      child.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        if (log.includes('starting data transfer loop') && existsSync(this.robotPath) && existsSync(this.daemonPath)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`socat exited (${code}): ${log}`));
      });
    });
    child.stderr!.resume();
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}
