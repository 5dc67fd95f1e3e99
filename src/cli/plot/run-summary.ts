import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { MpcdError } from '../../core/errors.js';
import { formatIssues } from '../../config/format-issues.js';

/**
 * The part of `mpcd run --json`'s summary that a plot needs. Only `cost` and `success` are
 * required per episode; everything else is optional so that summaries written by older or
 * newer versions of `mpcd run` still plot. Unknown fields are ignored.
 */
const episodeSchema = z.object({
  // JSON has no NaN or Infinity: JSON.stringify writes them as null, so a null cost is a gap.
  cost: z.number().nullable(),
  success: z.boolean(),
  transitions: z.number().optional(),
  model_version: z.union([z.number(), z.string()]).nullable().optional(),
});

const summarySchema = z.object({
  config: z.string().optional(),
  episodes: z.array(episodeSchema).min(1, 'a run summary needs at least one episode'),
});

export interface PlottedEpisode {
  /** 1-based, as `mpcd run` prints it: the position in the summary's `episodes` list. */
  readonly episode: number;
  readonly cost: number | null;
  readonly success: boolean;
  readonly modelVersion: number | string | null;
}

export interface RunSummary {
  /** The file it was read from, as given. */
  readonly source: string;
  /** Default legend label: the config file's name without extension, else the summary file's. */
  readonly defaultLabel: string;
  readonly episodes: readonly PlottedEpisode[];
}

/**
 * Reads a file holding the JSON printed by `mpcd run --json`. The JSON object is the file's last
 * non-empty line, so `mpcd run ... --json > file` works even when text was printed before it.
 */
export function readRunSummary(path: string): RunSummary {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MpcdError('PLOT_INPUT', `cannot read run summary ${path}: ${(err as Error).message}`);
  }
  return parseRunSummary(text, path);
}

/** Parses the text of a run summary file; `source` names the file in error messages. */
export function parseRunSummary(text: string, source: string): RunSummary {
  const last = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .at(-1);
  const hint = `write it with \`mpcd run <config> --json > ${source}\``;
  if (last === undefined) throw new MpcdError('PLOT_INPUT', `run summary ${source} is empty; ${hint}`);
  let json: unknown;
  try {
    json = JSON.parse(last);
  } catch (err) {
    throw new MpcdError(
      'PLOT_INPUT',
      `run summary ${source}: the last non-empty line is not JSON (${(err as Error).message}); ${hint}`,
    );
  }
  const parsed = summarySchema.safeParse(json, { reportInput: true });
  if (!parsed.success) {
    const lines = formatIssues(parsed.error.issues);
    throw new MpcdError('PLOT_INPUT', `run summary ${source} does not look like the output of \`mpcd run --json\``, lines);
  }
  const summary = parsed.data;
  return {
    source,
    defaultLabel: stem(summary.config ?? source),
    episodes: summary.episodes.map((e, i) => ({
      episode: i + 1,
      cost: e.cost,
      success: e.success,
      modelVersion: e.model_version ?? null,
    })),
  };
}

function stem(path: string): string {
  return basename(path, extname(path));
}
