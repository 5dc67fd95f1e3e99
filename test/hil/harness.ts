import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDocument } from 'yaml';
import { readRobotRecord, type RobotRecord } from '../../sim/robot-record.js';
import type { Transition } from '../../src/log/transition-schema.js';

/**
 * HIL rig for tests: the daemon (`mpcd run`) and the virtual robot (`mpcd sim-robot`) as
 * separate processes of the built CLI, talking over a real broker or pty. Every child is
 * killed when the test ends, passed or failed.
 */
const ROOT = join(import.meta.dirname, '..', '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

export interface Child {
  readonly proc: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

export class Rig {
  private readonly children: Child[] = [];

  constructor(readonly dir: string) {}

  spawn(args: readonly string[]): Child {
    const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MPCD_LOG_LEVEL: 'info' } });
    const child: Child = {
      proc,
      stdout: '',
      stderr: '',
      exited: new Promise((resolve) => proc.once('exit', (code) => resolve(code))),
    };
    proc.stdout!.on('data', (d: Buffer) => (child.stdout += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (child.stderr += d.toString()));
    this.children.push(child);
    return child;
  }

  /** Starts the virtual robot and waits until it is on the wire (its record says `ready`). */
  async robot(config: string, transport: readonly string[], record: string, faults: readonly string[] = []): Promise<Child> {
    const child = this.spawn(['sim-robot', config, ...transport, '--record', record, '--json', ...faults.flatMap((f) => ['--fault', f])]);
    await waitFor(() => existsSync(record) && readRobotRecord(record).some((r) => r.ev === 'ready'), 60_000, () => `robot not ready: ${child.stderr.slice(-2000)}`, child);
    return child;
  }

  /** Runs the daemon to the end; returns its JSON summary (the last stdout line). */
  async daemon(config: string, transport: readonly string[], log: string, episodes = 1): Promise<{ child: Child; summary: RunSummary }> {
    const child = this.spawn(['run', config, ...transport, '--episodes', String(episodes), '--json', '--log', log]);
    const code = await child.exited;
    assert.equal(code, 0, `mpcd run exited ${code}: ${child.stderr.slice(-3000)}`);
    const last = child.stdout.trim().split('\n').at(-1) ?? '';
    return { child, summary: JSON.parse(last) as RunSummary };
  }

  /** Stops the robot (SIGTERM, it flushes and exits) and returns its JSON summary. */
  async stopRobot(child: Child): Promise<RobotSummary> {
    child.proc.kill('SIGTERM');
    const code = await child.exited;
    assert.equal(code, 0, `sim-robot exited ${code}: ${child.stderr.slice(-2000)}`);
    return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as RobotSummary;
  }

  /** Kills every child still running. */
  async killAll(): Promise<void> {
    await Promise.all(
      this.children.map(async (c) => {
        if (c.proc.exitCode === null && c.proc.signalCode === null) {
          c.proc.kill('SIGKILL');
          await c.exited;
        }
      }),
    );
  }
}

export interface RunSummary {
  episodes: { episode: number; steps: number; success: boolean; transitions: number; overruns: number }[];
  success_rate: number;
  safety: { faults: Record<string, number>; safe_ticks: number; estops: number };
  link: { frames_dropped: Record<string, number>; frames_dropped_total: number; link_downs: number; link_ups: number; readings_not_newer: number } | null;
}

export interface RobotSummary {
  published: number;
  commands: number;
  applied: number;
  rejected: Record<string, number>;
  faults: Record<string, number>;
  link_dropped: number;
}

/**
 * A test config from config/cartpole-<transport>.yaml: paths made absolute, the planner and
 * episode made lighter for two real-time processes on a small machine, then `edit` applied.
 */
export function testConfig(dir: string, transport: 'mqtt' | 'serial', name: string, edit: (set: (path: string[], value: unknown) => void) => void = () => {}): string {
  const doc = parseDocument(readFileSync(join(ROOT, 'config', `cartpole-${transport}.yaml`), 'utf8'));
  const set = (path: string[], value: unknown): void => void doc.setIn(path, doc.createNode(value));
  set(['virtual_robot', 'mjcf'], join(ROOT, 'sim', 'models', 'cartpole.xml'));
  set(['log', 'dir'], dir);
  // K=256 plans in a quarter of the time of K=1024 (two real-time processes share a small machine); over a real link the action lands about a period late, so the swing-up takes longer than in lock-step simulation: 8 s episodes, judged on their last 2 s as in simulation.
  set(['planner', 'samples'], 256);
  // One planning thread: the virtual robot's process needs the other core in real time.
  set(['planner', 'threads'], 1);
  set(['scenario', 'episode_seconds'], 8);
  // A busy CI machine may stretch a plan past one period now and then; clear such a fault fast.
  set(['safety', 'deadline'], 0.03);
  set(['safety', 'fault_clear', 'good_ticks'], 3);
  edit(set);
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, doc.toString());
  return path;
}

export async function waitFor(ok: () => boolean, timeoutMs: number, why: () => string, child?: Child): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (child !== undefined && child.proc.exitCode !== null) throw new Error(`process exited early: ${why()}`);
    if (Date.now() > deadline) throw new Error(`timed out: ${why()}`);
    await sleep(20);
  }
}

/** Waits for the robot's first arm (the daemon's first episode started); returns its wall time, ms. */
export async function firstArm(record: string, daemon?: Child): Promise<number> {
  let at = 0;
  await waitFor(
    () => {
      at = readRobotRecord(record).find((r) => r.ev === 'arm')?.wall ?? 0;
      return at > 0;
    },
    60_000,
    () => `the daemon never armed the robot: ${daemon?.stderr.slice(-2000) ?? ''}`,
  );
  return at;
}

export type CmdRecord = Extract<RobotRecord, { ev: 'cmd' }>;
export const commandsOf = (records: readonly RobotRecord[]): CmdRecord[] => records.filter((r): r is CmdRecord => r.ev === 'cmd');

/**
 * Nothing lost: every command the robot received is an action the daemon logged, in the order
 * the daemon sent them (a subsequence of the logged actions). Over MQTT, where every send takes
 * the next seq, the seq also names the transition: command k is the k-th logged action.
 * Returns how many of the logged actions the robot received.
 */
export function assertEveryCommandLogged(transitions: readonly Transition[], records: readonly RobotRecord[], seqIsSendCount: boolean): number {
  const cmds = commandsOf(records);
  assert.ok(cmds.length > 0, 'the robot received no command');
  let i = 0;
  for (const c of cmds) {
    while (i < transitions.length && !sameAction(transitions[i]!.action, c.u)) i++;
    assert.ok(i < transitions.length, `command seq ${c.seq} u=${c.u.join(',')} is not in the daemon's log after the previous one`);
    i++;
  }
  if (seqIsSendCount) {
    for (const c of cmds) {
      const tr = transitions[c.seq - 1];
      assert.ok(tr !== undefined, `command seq ${c.seq}: the log has only ${transitions.length} transitions`);
      assert.ok(sameAction(tr.action, c.u), `command seq ${c.seq}: the robot got ${c.u.join(',')}, the log has ${tr.action.join(',')}`);
    }
    assert.deepEqual(cmds.map((c) => c.seq), [...cmds.map((c) => c.seq)].sort((a, b) => a - b), 'commands arrived out of order');
  }
  return cmds.length;
}

function sameAction(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, k) => Object.is(v, b[k]) || v === b[k]);
}

/**
 * The robot-side guarantee after the daemon's commands stop (hardware/protocol.md): the last
 * command applied before `beforeWall` holds until its expiry, and the safe action takes over at
 * the first physics period boundary after it, so within one control period of the expiry (on
 * the robot's timeline). Returns the expiry.
 */
export function assertSafeWithinOnePeriod(records: readonly RobotRecord[], beforeWall: number, controlPeriod: number): number {
  let last = -1;
  records.forEach((r, i) => {
    if (r.ev === 'cmd' && r.applied && r.wall < beforeWall) last = i;
  });
  assert.ok(last >= 0, 'no command was applied before the fault');
  const applied = records[last] as CmdRecord;
  const safe = records.slice(last + 1).find((r) => r.ev === 'safe' || (r.ev === 'cmd' && r.applied));
  assert.ok(safe !== undefined && safe.ev === 'safe', `after command seq ${applied.seq} the robot did not fall back to its safe action: ${JSON.stringify(safe)}`);
  assert.equal(safe.reason, 'expired');
  assert.equal(safe.expiry, applied.expiry);
  const late = safe.t - applied.expiry!;
  assert.ok(late >= 0 && late <= controlPeriod + 1e-9, `safe action ${late} s after the expiry; the bound is one period (${controlPeriod} s)`);
  return applied.expiry!;
}

/** Commands applied after the first record at or after `fromWall` that is `ev` (e.g. the re-arm). */
export function appliedAfter(records: readonly RobotRecord[], fromWall: number, ev: RobotRecord['ev']): CmdRecord[] {
  const start = records.findIndex((r) => r.ev === ev && r.wall >= fromWall);
  assert.ok(start >= 0, `no '${ev}' record after the fault`);
  return commandsOf(records.slice(start)).filter((c) => c.applied);
}
