import { MODEL_USAGE } from './usage.js';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import type { Config } from '../config/schema.js';
import { MpcdError } from '../core/errors.js';
import { ModelStore, resolveModelDir, type StoredVersion } from '../learning/model-store.js';
import { residualSpecForConfig } from '../learning/residual-spec-for-config.js';
import { buildModel } from '../models/build-model.js';
import type { ResidualSpec } from '../models/residual/residual-spec.js';
import { round } from './round.js';
import type { Write } from './train-command.js';

export interface ModelStoreArgs {
  config: string | undefined;
  modelDir: string | undefined;
  json: boolean;
}

const stdout: Write = (text) => process.stdout.write(text);
const silent = { info: () => {}, warn: () => {} };

/** `mpcd model list`: every stored version with its data, validation and problems. */
export async function modelListCommand(args: ModelStoreArgs, write: Write = stdout): Promise<number> {
  const { store, spec } = await openStore(args);
  const versions = store.list(spec);
  const pinned = store.pinnedVersion();
  const start = store.loadPreferred(spec, silent)?.version;
  const rows = versions.map((v) => row(v, pinned, start));
  if (args.json) {
    write(`${JSON.stringify({ dir: store.dir, pinned: pinned ?? null, start_version: start ?? 0, versions: rows })}\n`);
    return 0;
  }
  if (rows.length === 0) {
    write(`no model versions in ${store.dir}; \`mpcd train <logs> --config <config>\` makes one\n`);
    return 0;
  }
  const table = [
    ['version', 'created', 'accepted', 'pinned', 'transitions', 'data span', 'score (vs previous)', 'epochs'],
    ...rows.map((r) => [
      `${r.version === start ? '*' : ' '}v${r.version}`,
      r.created?.replace(/\.\d+Z$/, 'Z') ?? '?',
      r.accepted === undefined ? '?' : r.accepted ? 'yes' : 'no',
      r.pinned ? 'pinned' : '',
      r.transitions?.toString() ?? '?',
      span(r.t_from, r.t_to),
      r.score === undefined ? '?' : `${fmt(r.score)} (v${r.previous_version} ${fmt(r.previous_score ?? null)})`,
      r.epochs?.toString() ?? '?',
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((cells) => cells[i]!.length)));
  const lines = table.map((cells) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  // Problems go under their version's line: header + rule come first, so row i sits at line i + 2.
  const out: string[] = lines.slice(0, 2);
  rows.forEach((r, i) => {
    out.push(lines[i + 2]!);
    if (r.problem !== undefined) out.push(`      problem: ${r.problem}`);
  });
  out.push(
    '',
    `store: ${store.dir}`,
    start !== undefined ? `* the daemon starts from v${start}${pinned === start ? ' (pinned)' : ''}` : 'the daemon starts on the analytic model: no usable accepted version',
  );
  if (pinned !== undefined && pinned !== start) out.push(`v${pinned} is pinned but cannot be loaded; \`mpcd model use --latest\` unpins it`);
  write(`${out.join('\n')}\n`);
  return 0;
}

/** `mpcd model use <version>` pins a version (rollback); `--latest` unpins. */
export async function modelUseCommand(args: ModelStoreArgs & { version: string | undefined; latest: boolean }, write: Write = stdout): Promise<number> {
  const { store, spec } = await openStore(args);
  if (args.latest) {
    if (args.version !== undefined) throw new MpcdError('USAGE', 'model use takes a version or --latest, not both');
    const was = store.unpin();
    const start = store.loadPreferred(spec, silent)?.version;
    if (args.json) write(`${JSON.stringify({ dir: store.dir, unpinned: was ?? null, start_version: start ?? 0 })}\n`);
    else write(`${was !== undefined ? `unpinned v${was}` : 'nothing was pinned'}; the daemon starts from ${start !== undefined ? `v${start}, the newest accepted version` : 'the analytic model (no usable accepted version)'}\n`);
    return 0;
  }
  if (args.version === undefined) throw new MpcdError('USAGE', 'model use needs a version (as `mpcd model list` shows it, e.g. 3 or v3) or --latest');
  const version = parseVersion(args.version);
  const meta = store.use(version, spec);
  if (args.json) write(`${JSON.stringify({ dir: store.dir, pinned: version, accepted: meta.accepted })}\n`);
  else
    write(
      `pinned v${version} in ${store.dir}: the daemon starts from it until \`mpcd model use --latest\`` +
        `${meta.accepted ? '' : ' (note: it was not accepted when trained; it lost validation)'}\n`,
    );
  return 0;
}

async function openStore(args: ModelStoreArgs): Promise<{ store: ModelStore; spec: ResidualSpec | undefined }> {
  let config: Config | undefined;
  if (args.config !== undefined) config = (await loadConfig(args.config)).config;
  const spec = config !== undefined ? residualSpecForConfig(config, buildModel(config, 1)) : undefined;
  return { store: new ModelStore(resolveModelDir(config, args.modelDir)), spec };
}

export function parseVersion(text: string): number {
  const m = /^v?(\d+)$/.exec(text.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new MpcdError('USAGE', `"${text}" is not a model version; give a number as \`mpcd model list\` shows it, e.g. 3 or v3`);
  return n;
}

interface VersionRow {
  version: number;
  created?: string;
  accepted?: boolean;
  pinned: boolean;
  starts: boolean;
  transitions?: number;
  t_from?: number | null;
  t_to?: number | null;
  score?: number | null;
  previous_score?: number | null;
  previous_version?: number;
  holdout?: number;
  epochs?: number;
  problem?: string;
}

function row(v: StoredVersion, pinned: number | undefined, start: number | undefined): VersionRow {
  const r: VersionRow = { version: v.version, pinned: v.version === pinned, starts: v.version === start };
  const m = v.meta;
  if (m !== undefined) {
    Object.assign(r, {
      created: m.created,
      accepted: m.accepted,
      transitions: m.data.transitions,
      t_from: m.data.t_from,
      t_to: m.data.t_to,
      score: m.validation.score === null ? null : round(m.validation.score, 5),
      previous_score: m.validation.previous_score === null ? null : round(m.validation.previous_score, 5),
      previous_version: m.validation.previous_version,
      holdout: m.validation.holdout,
      epochs: m.training.epochs,
    });
  }
  if (v.problem !== undefined) r.problem = v.problem;
  return r;
}

function span(from: number | null | undefined, to: number | null | undefined): string {
  if (from == null || to == null) return '?';
  const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  return `${iso(from)} .. ${iso(to)} (${(to - from).toFixed(0)} s)`;
}

function fmt(x: number | null): string {
  return x === null ? 'n/a' : x.toPrecision(4);
}

/** Parses `mpcd model ...` arguments (after the word `model`) and runs the subcommand. */
export function modelMain(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      'model-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      latest: { type: 'boolean', default: false },
    },
  });
  const common = { config: values.config, modelDir: values['model-dir'], json: values.json };
  if (sub === 'list') {
    if (positionals.length > 0 || values.latest) throw new MpcdError('USAGE', `model list takes no arguments besides options\n\n${MODEL_USAGE}`);
    return modelListCommand(common);
  }
  if (sub === 'use') {
    if (positionals.length > 1) throw new MpcdError('USAGE', `model use takes one version\n\n${MODEL_USAGE}`);
    return modelUseCommand({ ...common, version: positionals[0], latest: values.latest });
  }
  throw new MpcdError('USAGE', `${sub === undefined ? 'model needs a subcommand' : `unknown model subcommand "${sub}"`}\n\n${MODEL_USAGE}`);
}
