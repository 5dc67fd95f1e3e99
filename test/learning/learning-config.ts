/**
 * Configs for the learning tests: config/cartpole-mismatch.yaml with a small residual and a
 * short training, so a refit takes a second or two; and a pino logger whose records a test can read.
 */
import { Writable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { parse, stringify } from 'yaml';

import { parseConfigText } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/schema.js';
import type { ModelSaveInfo } from '../../src/learning/model-store.js';

export const repoRoot = join(import.meta.dirname, '..', '..', '..');

type Doc = Record<string, Record<string, unknown>>;

/**
 * The mismatch example as YAML text with a small residual and short refits, `learning` fields
 * overridden by `learning`, and any other top-level section patched by `patch`.
 */
export function smallLearningYaml(learning: Record<string, unknown> = {}, patch: (doc: Doc) => void = () => {}): string {
  const doc = parse(readFileSync(join(repoRoot, 'config', 'cartpole-mismatch.yaml'), 'utf8')) as Doc;
  doc['model']!['residual'] = { members: 3, elites: 2, hidden: [16, 16], backend: 'auto', uncertainty_weight: 0 };
  doc['learning'] = {
    ...doc['learning'],
    refit_every_seconds: 1e6,
    max_epochs: 20,
    patience: 20,
    batch_size: 32,
    max_seconds: 60,
    ...learning,
  };
  patch(doc);
  return stringify(doc);
}

export function smallLearningConfig(learning: Record<string, unknown> = {}): Config {
  return parseConfigText(smallLearningYaml(learning), 'learning test config');
}

export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A real pino Logger that keeps every record (parsed) in `records`. */
export function capturingLogger(): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') records.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  // Synchronous enough for tests: pino writes each record with one stream.write.
  return { log: pino({ level: 'debug' }, stream), records };
}

/** Plausible metadata for a version saved by a test. */
export const sampleSaveInfo: ModelSaveInfo = {
  accepted: true,
  data: { transitions: 600, t_from: 0, t_to: 12, sources: ['live'] },
  validation: { score: 0.3, previous_score: 1.02, previous_version: 0, holdout: 90 },
  training: { epochs: 20, seconds: 1, stopped_by: 'max_epochs', member_validation_mse: [0.1, 0.2, 0.3], backend: 'cpu' },
};
