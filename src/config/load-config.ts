import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { MpcdError } from '../core/errors.js';
import { configSchema, type Config } from './schema.js';
import { formatIssues } from './format-issues.js';
import { checkNames } from './check-names.js';

export interface LoadedConfig {
  readonly config: Config;
  /** Absolute path of the config file; relative paths inside it are resolved from its folder. */
  readonly path: string;
  readonly dir: string;
  readonly text: string;
}

/** Reads, parses and validates a config file; throws one MpcdError listing every problem. */
export function loadConfig(path: string): LoadedConfig {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new MpcdError('CONFIG_READ', `cannot read config ${path}: ${(err as Error).message}`);
  }
  return { config: parseConfigText(text, abs), path: abs, dir: dirname(abs), text };
}

/** Parses YAML text and validates it; `source` names the file in messages. */
export function parseConfigText(text: string, source: string): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new MpcdError(
      'CONFIG_YAML',
      `${source} is not valid YAML; fix the syntax at the places below`,
      doc.errors.map((e) => e.message.split('\n')[0] ?? e.message),
    );
  }
  const result = configSchema.safeParse(doc.toJS(), { reportInput: true });
  if (!result.success) {
    const lines = formatIssues(result.error.issues);
    throw new MpcdError('CONFIG_INVALID', `${source}: ${lines.length} error(s) in the config`, lines);
  }
  const nameErrors = checkNames(result.data);
  if (nameErrors.length > 0) {
    throw new MpcdError('CONFIG_INVALID', `${source}: ${nameErrors.length} error(s) in the config`, nameErrors);
  }
  return result.data;
}
