import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * The daemon's structured log on stderr (stdout is kept for results): JSON lines, or a
 * human-readable rendering of the same records when stderr is a terminal. Level from
 * MPCD_LOG_LEVEL (default info).
 */
export function createLogger(name = 'mpcd'): Logger {
  const options = { name, level: process.env['MPCD_LOG_LEVEL'] ?? 'info' };
  if (process.stderr.isTTY) {
    // Synchronous in-process prettifier: no worker thread, nothing lost if the process exits.
    return pino(options, pretty({ destination: 2, sync: true, colorize: true, singleLine: true, ignore: 'pid,hostname' }));
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}
