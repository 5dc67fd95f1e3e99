import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeSync, fsync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { readLogsIntoBuffer } from '../../src/learning/transition-log-source.js';
import { ReplayBuffer } from '../../src/learning/replay-buffer.js';
import { TransitionLogWriter } from '../../src/log/transition-log-writer.js';
import type { TransitionLogFs } from '../../src/log/transition-log-writer.js';
import { sampleInfo, sampleTransition } from '../log/fixtures/sample-transitions.js';

const dir = mkdtempSync(join(tmpdir(), 'mpcd-log-source-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const expected = { stateNames: sampleInfo.state_names, actionNames: sampleInfo.action_names, period: sampleInfo.control_period };

test('a log the daemon stopped writing (disk full) is read to its last record, with one line saying so', async () => {
  const complete = join(dir, 'complete.mcap');
  const full = join(dir, 'disk-full.mcap');
  const w = TransitionLogWriter.open(complete, { ...sampleInfo, start_time: 1 });
  for (let i = 0; i < 10; i++) w.append(sampleTransition(i));
  await w.close();

  let calls = 0;
  const enospc: TransitionLogFs = {
    writeSync: (fd, b, o, l) => {
      if (calls++ <= 30) return writeSync(fd, b, o, l);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
    fsync,
  };
  const f = TransitionLogWriter.open(full, { ...sampleInfo, start_time: 2 }, { fs: enospc, logger: { error: () => {} } });
  for (let i = 0; i < 100; i++) f.append(sampleTransition(i));
  await f.close();
  assert.equal(f.failure?.records, 30);

  const ingest = readLogsIntoBuffer([full, complete], expected, new ReplayBuffer(4, 1, 1000));
  assert.equal(ingest.read, 40);
  assert.equal(ingest.torn.length, 1);
  const [torn] = ingest.torn;
  assert.equal(torn?.file, full);
  assert.equal(torn?.transitions, 30);
  assert.equal(torn?.damage, undefined);
  assert.match(torn?.note ?? '', /disk-full\.mcap: 30 transitions read, then the file ends without its footer: the daemon stopped writing it \(disk full/);
  assert.ok(!(torn?.note ?? '').includes('\n'), 'one line');
});
