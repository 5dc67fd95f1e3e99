import assert from 'node:assert/strict';
import { closeSync, existsSync, fsync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { MpcdError } from '../../src/core/errors.js';
import { readTransitionLog, tornLogNote } from '../../src/log/transition-log-reader.js';
import { LOG_WRITE_FAILED, TransitionLogWriter } from '../../src/log/transition-log-writer.js';
import type { FailureLogger, TransitionLogFs } from '../../src/log/transition-log-writer.js';
import { sampleInfo, sampleTransition } from './fixtures/sample-transitions.js';

// Disk full, read-only, I/O errors and short writes, through the writer's file-system seam: the
// control loop's append() never throws for them, logging stops, the file stays readable.
const dir = mkdtempSync(join(tmpdir(), 'mpcd-log-failure-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, write`), { code, errno: -1, syscall: 'write' });
}

/** A logger that keeps what it is told. */
function captureLogger(): FailureLogger & { lines: { fields: Record<string, unknown>; msg: string }[] } {
  const lines: { fields: Record<string, unknown>; msg: string }[] = [];
  return { lines, error: (fields, msg) => void lines.push({ fields, msg }) };
}

/**
 * node:fs, except that the write call number `failAt` (0 = the header) first writes `partial`
 * bytes of its record and then every write from there on throws `code`. Counts calls.
 */
function failingFs(failAt: number, code: string, partial = 0): TransitionLogFs & { writes: number; fsyncs: number } {
  const fs = {
    writes: 0,
    fsyncs: 0,
    tornDone: false,
    writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number {
      const call = fs.writes++;
      if (call < failAt) return writeSync(fd, buffer, offset, length);
      if (call === failAt && partial > 0 && !fs.tornDone) {
        fs.tornDone = true;
        return writeSync(fd, buffer, offset, Math.min(partial, length - 1)); // a short write; the retry fails
      }
      throw errno(code);
    },
    fsync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
      fs.fsyncs++;
      fsync(fd, cb);
    },
  };
  return fs;
}

test('ENOSPC after N records: append never throws, one log line, the file reads to its last whole record', async () => {
  const path = join(dir, 'enospc.mcap');
  const N = 40;
  const fs = failingFs(1 + N, 'ENOSPC', 57); // call 0 is the header; the record after N is torn
  const logger = captureLogger();
  const writer = TransitionLogWriter.open(path, sampleInfo, { fs, logger });
  for (let i = 0; i < 200; i++) writer.append(sampleTransition(i)); // must not throw
  writer.appendEvent({ t: 5, kind: 'robot_restart', detail: {} }); // nor this
  assert.equal(writer.count, N);
  const failure = writer.failure;
  assert.ok(failure);
  assert.equal(failure.code, 'ENOSPC');
  assert.equal(failure.records, N);
  assert.equal(failure.events, 0);
  assert.match(failure.message, /ENOSPC/);
  // Logging stopped: no write was tried after the failure (the retry of the short write is the last).
  assert.equal(fs.writes, 1 + N + 2);

  assert.equal(logger.lines.length, 1);
  const line = logger.lines[0]!;
  assert.equal(line.fields['code'], LOG_WRITE_FAILED);
  assert.equal(line.fields['errno'], 'ENOSPC');
  assert.equal(line.fields['path'], path);
  assert.equal(line.fields['records'], N);
  assert.match(line.msg, /control goes on/);

  await writer.close(); // resolves: no error escapes
  await writer.close();
  assert.equal(logger.lines.length, 1, 'close logs nothing more');
  assert.equal(fs.writes, 1 + N + 2, 'close writes no footer after a torn record');

  const log = readTransitionLog(path);
  assert.equal(log.torn, true);
  assert.equal(log.damage, undefined);
  assert.deepEqual(log.transitions, Array.from({ length: N }, (_, i) => sampleTransition(i)));
  assert.equal(log.bytesRead, failure.bytes);
  assert.equal(statSync(path).size, failure.bytes + 57, 'the torn tail is the short write');
  assert.deepEqual(log.info, sampleInfo);
  assert.match(tornLogNote(path, { count: log.transitions.length, torn: log.torn }) ?? '', /40 transitions read, then the file ends without its footer.*disk full/);
});

test('EROFS at the first record: nothing after the header, the failure says 0 records', async () => {
  const path = join(dir, 'erofs.mcap');
  const logger = captureLogger();
  const writer = TransitionLogWriter.open(path, sampleInfo, { fs: failingFs(1, 'EROFS'), logger });
  writer.appendEvent({ t: 0, kind: 'clock_step', detail: { step_s: 1.5 } });
  for (let i = 0; i < 10; i++) writer.append(sampleTransition(i));
  assert.deepEqual(writer.failure, {
    code: 'EROFS',
    message: 'EROFS: simulated, write',
    records: 0,
    events: 0,
    bytes: writer.bytesWritten,
  });
  assert.equal(logger.lines.length, 1);
  assert.equal(logger.lines[0]!.fields['errno'], 'EROFS');
  await writer.close();
  const log = readTransitionLog(path);
  assert.equal(log.transitions.length, 0);
  assert.equal(log.events.length, 0);
  assert.equal(log.torn, true);
  assert.deepEqual(log.info, sampleInfo);
});

test('an error without an errno code (EIO-like, or anything) is a failure too, with EUNKNOWN', () => {
  const path = join(dir, 'unknown.mcap');
  const logger = captureLogger();
  let calls = 0;
  const fs: TransitionLogFs = {
    writeSync: (fd, b, o, l) => {
      if (calls++ < 3) return writeSync(fd, b, o, l);
      throw new TypeError('something else broke');
    },
    fsync,
  };
  const writer = TransitionLogWriter.open(path, sampleInfo, { fs, logger });
  for (let i = 0; i < 5; i++) writer.append(sampleTransition(i));
  assert.equal(writer.failure?.code, 'EUNKNOWN');
  assert.equal(writer.failure?.records, 2);
  assert.equal(logger.lines.length, 1);
  return writer.close();
});

test('short writes are finished by writing the rest: the file is the same as one written whole', async () => {
  const whole = join(dir, 'whole.mcap');
  const dribbled = join(dir, 'dribbled.mcap');
  const fs: TransitionLogFs = {
    writeSync: (fd, b, o, l) => writeSync(fd, b, o, Math.min(l, 7)), // the kernel takes 7 bytes at a time
    fsync,
  };
  for (const [path, options] of [[whole, {}], [dribbled, { fs }]] as const) {
    const writer = TransitionLogWriter.open(path, sampleInfo, options);
    for (let i = 0; i < 30; i++) {
      writer.append(sampleTransition(i));
      if (i % 10 === 3) writer.appendEvent({ t: i * 0.02, kind: 'clock_step', detail: { i } });
    }
    await writer.close();
    assert.equal(writer.failure, undefined);
  }
  assert.deepEqual(readFileSync(dribbled), readFileSync(whole));
  const log = readTransitionLog(dribbled);
  assert.equal(log.torn, false);
  assert.equal(log.transitions.length, 30);
  assert.equal(log.events.length, 3);
});

test('a write that makes no progress (returns 0) is a SHORT_WRITE failure, not an endless loop', async () => {
  const path = join(dir, 'zero.mcap');
  const logger = captureLogger();
  let calls = 0;
  const fs: TransitionLogFs = {
    writeSync: (fd, b, o, l) => (calls++ < 6 ? writeSync(fd, b, o, l) : 0),
    fsync,
  };
  const writer = TransitionLogWriter.open(path, sampleInfo, { fs, logger });
  for (let i = 0; i < 10; i++) writer.append(sampleTransition(i));
  assert.equal(writer.failure?.code, 'SHORT_WRITE');
  assert.equal(writer.failure?.records, 5);
  await writer.close();
  assert.equal(readTransitionLog(path).transitions.length, 5);
  assert.equal(logger.lines.length, 1);
});

test('close() on a failed writer does not fsync, so a stuck fsync cannot hang it', async () => {
  const path = join(dir, 'stuck.mcap');
  const fs: TransitionLogFs & { fsyncs: number } = {
    fsyncs: 0,
    writeSync: (() => {
      let calls = 0;
      return (fd: number, b: Uint8Array, o: number, l: number) => {
        if (calls++ < 2) return writeSync(fd, b, o, l);
        throw errno('EIO');
      };
    })(),
    fsync: () => void fs.fsyncs++, // never calls back
  };
  const writer = TransitionLogWriter.open(path, sampleInfo, { fs, logger: captureLogger() });
  writer.append(sampleTransition(0));
  writer.append(sampleTransition(1));
  assert.equal(writer.failure?.code, 'EIO');
  await writer.close();
  assert.equal(fs.fsyncs, 0);
});

test('a footer or fsync that fails at close() sets failure and resolves', async () => {
  const path = join(dir, 'fsync-fails.mcap');
  const logger = captureLogger();
  const fs: TransitionLogFs = { writeSync, fsync: (_fd, cb) => cb(errno('EIO')) };
  const writer = TransitionLogWriter.open(path, sampleInfo, { fs, logger });
  for (let i = 0; i < 3; i++) writer.append(sampleTransition(i));
  await writer.close();
  assert.equal(writer.failure?.code, 'EIO');
  assert.equal(writer.failure?.records, 3);
  assert.equal(logger.lines.length, 1);
  assert.equal(readTransitionLog(path).transitions.length, 3);

  const full = join(dir, 'footer-fails.mcap');
  const footerLogger = captureLogger();
  const footer = TransitionLogWriter.open(full, sampleInfo, { fs: failingFs(4, 'EDQUOT'), logger: footerLogger });
  for (let i = 0; i < 3; i++) footer.append(sampleTransition(i));
  const before = footer.failure;
  assert.equal(before, undefined);
  await footer.close();
  assert.equal(footer.failure?.code, 'EDQUOT');
  assert.equal(footerLogger.lines.length, 1);
  const log = readTransitionLog(full);
  assert.equal(log.transitions.length, 3);
  assert.equal(log.torn, true);
});

test('append after close is still a LOG_CLOSED error (a caller bug, not the disk)', async () => {
  const path = join(dir, 'closed-after-failure.mcap');
  const writer = TransitionLogWriter.open(path, sampleInfo, { fs: failingFs(1, 'ENOSPC'), logger: captureLogger() });
  writer.append(sampleTransition(0));
  await writer.close();
  assert.throws(() => writer.append(sampleTransition(1)), (e: unknown) => e instanceof MpcdError && e.code === 'LOG_CLOSED');
});

test('a log that cannot be created is LOG_OPEN, as before', () => {
  const notADir = join(dir, 'a-file');
  writeFileSync(notADir, 'x');
  const path = join(notADir, 'run.mcap');
  assert.throws(
    () => TransitionLogWriter.open(path, sampleInfo),
    (e: unknown) => e instanceof MpcdError && e.code === 'LOG_OPEN' && e.message.includes(path),
  );
});

test('a header write that fails at open is LOG_OPEN naming the errno, and logs nothing', () => {
  const path = join(dir, 'open-fails.mcap');
  const logger = captureLogger();
  assert.throws(
    () => TransitionLogWriter.open(path, sampleInfo, { fs: failingFs(0, 'ENOSPC'), logger }),
    (e: unknown) => e instanceof MpcdError && e.code === 'LOG_OPEN' && /ENOSPC/.test(e.message) && e.message.includes(path),
  );
  assert.equal(logger.lines.length, 0);
});

const devFull = '/dev/full';
const skipDevFull = existsSync(devFull) ? false : `${devFull} does not exist here`;

test('/dev/full: opening a log on it is LOG_OPEN with ENOSPC from the kernel', { skip: skipDevFull }, () => {
  assert.throws(
    () => TransitionLogWriter.open(devFull, sampleInfo, { overwrite: true, logger: captureLogger() }),
    (e: unknown) => e instanceof MpcdError && e.code === 'LOG_OPEN' && /ENOSPC/.test(e.message),
  );
});

test('/dev/full mid-run: after N records the writes go to /dev/full, whose real ENOSPC stops the log', { skip: skipDevFull }, async () => {
  const path = join(dir, 'dev-full.mcap');
  const N = 25;
  const full = openSync(devFull, 'w');
  try {
    let calls = 0;
    // The same bytes, written by node:fs; only the fd changes, to one the kernel fails with ENOSPC.
    const fs: TransitionLogFs = { writeSync: (fd, b, o, l) => writeSync(calls++ > N ? full : fd, b, o, l), fsync };
    const logger = captureLogger();
    const writer = TransitionLogWriter.open(path, sampleInfo, { fs, logger });
    for (let i = 0; i < 100; i++) writer.append(sampleTransition(i));
    assert.equal(writer.failure?.code, 'ENOSPC');
    assert.equal(writer.failure?.records, N);
    assert.equal(logger.lines.length, 1);
    await writer.close();
    const log = readTransitionLog(path);
    assert.equal(log.transitions.length, N);
    assert.equal(log.torn, true);
  } finally {
    closeSync(full);
  }
});
