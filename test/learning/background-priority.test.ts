import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

/** Linux scheduling policy of a thread: field 41 of /proc/thread-self/stat (5 = SCHED_IDLE). */
const SCHED_IDLE = 5;

test('the refit thread runs under SCHED_IDLE (Linux, native addon), and only that thread', { skip: existsSync('/proc/thread-self/stat') ? false : 'no /proc/thread-self' }, async () => {
  const url = new URL('../../src/learning/background-priority.js', import.meta.url).href;
  const code = `
    const { parentPort } = require('node:worker_threads');
    const { readFileSync } = require('node:fs');
    import(${JSON.stringify(url)}).then(({ lowerThreadPriority }) => {
      const how = lowerThreadPriority({ warn() {} });
      const stat = readFileSync('/proc/thread-self/stat', 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentPort.postMessage({ how, policy: Number(fields[41 - 3]) });
    });`;
  const reply = await new Promise<{ how: string; policy: number }>((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.once('message', (m: { how: string; policy: number }) => void w.terminate().then(() => resolve(m)));
    w.once('error', reject);
  });
  assert.equal(reply.how, 'idle');
  assert.equal(reply.policy, SCHED_IDLE);
  const own = readFileSync('/proc/thread-self/stat', 'utf8');
  assert.equal(Number(own.slice(own.lastIndexOf(')') + 2).split(' ')[41 - 3]), 0, 'the calling process keeps SCHED_OTHER');
});
