import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

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
