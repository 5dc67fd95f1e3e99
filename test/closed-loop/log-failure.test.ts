import assert from 'node:assert/strict';
import { fsync, mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { plantOpener } from '../../src/cli/open-plant.js';
import { logFault } from '../../src/cli/run-command.js';
import { loadConfig } from '../../src/config/load-config.js';
import { readTransitionLog } from '../../src/log/transition-log-reader.js';
import type { TransitionLogFs } from '../../src/log/transition-log-writer.js';
import { SimSession } from '../../src/loop/sim-session.js';

// "Never blind": the disk fills in the middle of a run. The log stops, the control loop does not.
const configDir = join(import.meta.dirname, '..', '..', '..', 'config');
const tmp = mkdtempSync(join(tmpdir(), 'mpcd-log-failure-loop-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('a transition log that hits ENOSPC mid-episode: every episode runs its full steps, the cart-pole swings up, the fault is reported', async () => {
  const logPath = join(tmp, 'disk-full.mcap');
  const N = 120; // transitions written before the disk is full: inside episode 0
  let writes = 0;
  const logFs: TransitionLogFs = {
    writeSync: (fd, b, o, l) => {
      if (writes++ <= N) return writeSync(fd, b, o, l); // write 0 is the header
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    },
    fsync,
  };
  const loaded = await loadConfig(join(configDir, 'cartpole-swingup.yaml'));
  const session = await SimSession.create(loaded, { openPlant: plantOpener(loaded), seed: 11, logPath, logFs });
  const results = [];
  try {
    for (let e = 0; e < 2; e++) results.push(await session.runEpisode(e));
  } finally {
    await session.close();
  }
  for (const r of results) {
    assert.equal(r.steps, 300, `episode ${r.episode} ran ${r.steps} steps`);
    assert.ok(r.success, `episode ${r.episode} failed: cost ${r.cost}`);
  }
  assert.equal(results[1]?.transitions, 600, 'the session counted every transition, logged or not');
  assert.equal(session.logFailure?.code, 'ENOSPC');
  assert.equal(session.logFailure?.records, N);
  assert.equal(writes, N + 2, 'no write after the failed one');
  assert.deepEqual(logFault(session.logFailure), { code: 'log_write_failed', errno: 'ENOSPC', records: N });
  assert.equal(logFault(undefined), null);

  const log = readTransitionLog(logPath);
  assert.equal(log.torn, true);
  assert.equal(log.transitions.length, N);
  assert.deepEqual(log.transitions.map((t) => t.step), [...Array(N).keys()]);
});
