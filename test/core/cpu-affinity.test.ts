import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { helperCpus } from '../../src/core/cpu-affinity.js';

/** The CPUs a thread may run on, from /proc/thread-self/status, e.g. "0-1" or "1". */
function allowedList(status: string): string {
  return /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1] ?? '?';
}

/** Runs pinThisThread(cpus) in a fresh worker thread; its result, warnings and CPU list. */
async function pinInWorker(cpus: unknown): Promise<{ pinned: boolean; warnings: number; allowed: string }> {
  const url = new URL('../../src/core/cpu-affinity.js', import.meta.url).href;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { readFileSync } = require('node:fs');
    import(${JSON.stringify(url)}).then(({ pinThisThread }) => {
      let warnings = 0;
      const pinned = pinThisThread(workerData, 'learning.cpus', { warn() { warnings++; } });
      parentPort.postMessage({ pinned, warnings, allowed: /Cpus_allowed_list:\\s*(\\S+)/.exec(readFileSync('/proc/thread-self/status', 'utf8'))[1] });
    });`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: cpus });
    w.once('message', (m: { pinned: boolean; warnings: number; allowed: string }) => void w.terminate().then(() => resolve(m)));
    w.once('error', reject);
  });
}

const skip = existsSync('/proc/thread-self/status') ? false : 'no /proc/thread-self (not Linux)';

test('a pinned thread runs only on its CPUs, and the rest of the process keeps every CPU', { skip }, async () => {
  const before = allowedList(readFileSync('/proc/thread-self/status', 'utf8'));
  const last = availableParallelism() - 1;
  const r = await pinInWorker([last]);
  assert.equal(r.pinned, true);
  assert.equal(r.warnings, 0);
  assert.equal(r.allowed, String(last));
  assert.equal(allowedList(readFileSync('/proc/thread-self/status', 'utf8')), before, 'only the calling thread is pinned');
});

test("'any' pins nothing; a CPU the machine does not have is refused with a warning naming the field, and the thread runs on", { skip }, async () => {
  const before = allowedList(readFileSync('/proc/thread-self/status', 'utf8'));
  assert.deepEqual(await pinInWorker('any'), { pinned: false, warnings: 0, allowed: before });
  assert.deepEqual(await pinInWorker([1000]), { pinned: false, warnings: 1, allowed: before });
});

test('helperCpus: the refit CPUs where set, else those the planner leaves free, and none for an unpinned planner', () => {
  assert.equal(helperCpus('any', [1], 4), undefined);
  assert.deepEqual(helperCpus([0], [3], 4), [3]);
  assert.deepEqual(helperCpus([0, 1], 'any', 4), [2, 3]);
  assert.equal(helperCpus([0, 1], 'any', 2), undefined, 'the planner has every CPU: nowhere else to go');
});

test("pinHelperThreads moves every thread but the main one onto the CPUs named, and the main thread keeps its own", { skip }, () => {
  const last = availableParallelism() - 1;
  const url = new URL('../../src/core/cpu-affinity.js', import.meta.url).href;
  // A fresh process: its helper threads are node's own (V8's platform and delayed-task threads).
  const code = `
    import { readFileSync, readdirSync } from 'node:fs';
    const { pinHelperThreads } = await import(${JSON.stringify(url)});
    const moved = pinHelperThreads([${last}], 'learning.cpus', { warn: (o) => console.error(JSON.stringify(o)) });
    const allowed = (tid) => /Cpus_allowed_list:\\s*(\\S+)/.exec(readFileSync('/proc/self/task/' + tid + '/status', 'utf8'))[1];
    const others = readdirSync('/proc/self/task').map(Number).filter((t) => t !== process.pid);
    console.log(JSON.stringify({ moved, main: allowed(process.pid), others: others.map(allowed) }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  const r = JSON.parse(out) as { moved: number; main: string; others: string[] };
  assert.ok(r.moved >= 1, `moved ${r.moved}`);
  assert.ok(r.others.length >= r.moved);
  assert.ok(r.others.every((a) => a === String(last)), `helper threads on ${r.others.join(' ')}`);
  assert.equal(r.main, allowedList(readFileSync('/proc/thread-self/status', 'utf8')), 'the main thread is not moved');
});
