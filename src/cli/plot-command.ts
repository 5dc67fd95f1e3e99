import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { MpcdError } from '../core/errors.js';
import { createLogger } from '../telemetry/logger.js';
import { learningCurveChart, type LearningCurveMetric } from './plot/learning-curve.js';
import { renderPng } from './plot/render-png.js';
import { readRunSummary } from './plot/run-summary.js';

export interface PlotArgs {
  /** Files holding `mpcd run --json` output (the JSON object is the last non-empty line). */
  readonly summaries: readonly string[];
  readonly out: string;
  /** One per summary, in order; none: each run is named after its config file. */
  readonly labels: readonly string[];
  readonly title?: string | undefined;
  readonly metric: LearningCurveMetric;
  /** A .ttf/.otf file for the text; undefined: the system's fonts. */
  readonly font?: string | undefined;
}

export const PLOT_WIDTH = 1200;
export const PLOT_HEIGHT = 700;

/** `mpcd plot`: the learning curve of one or more runs as a 1200x700 PNG. */
export function plotCommand(args: PlotArgs): number {
  if (args.summaries.length === 0) throw new MpcdError('USAGE', 'plot takes one or more run summary files (from `mpcd run <config> --json > FILE`)');
  if (extname(args.out).toLowerCase() !== '.png') throw new MpcdError('USAGE', `--out ${args.out}: the plot is written as PNG; give a file name ending in .png`);
  if (args.labels.length > 0 && args.labels.length !== args.summaries.length) {
    throw new MpcdError(
      'USAGE',
      `${args.labels.length} --label for ${args.summaries.length} summaries; give one --label per summary, in the same order, or none`,
    );
  }
  const runs = args.summaries.map((path, i) => {
    const run = readRunSummary(path);
    return { label: args.labels[i] ?? run.defaultLabel, run };
  });
  const chart = learningCurveChart(runs, {
    metric: args.metric,
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    ...(args.title !== undefined ? { title: args.title } : {}),
  });
  const image = renderPng(chart.svg, args.font);
  if (!image.textDrawn && args.font !== undefined) {
    throw new MpcdError('PLOT_FONT', `--font ${args.font}: no text could be drawn with it; give a TrueType (.ttf) or OpenType (.otf) font file`);
  }
  if (!image.textDrawn) {
    createLogger().warn(
      { out: args.out },
      'no font found: the plot has no title, tick labels or legend text. Install one (Debian: apt-get install fonts-dejavu-core) or pass --font FILE.ttf',
    );
  }
  try {
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(args.out, image.png);
  } catch (err) {
    throw new MpcdError('PLOT_WRITE', `cannot write ${args.out}: ${(err as Error).message}`);
  }
  const episodes = runs.map((r) => r.run.episodes.length).join(', ');
  process.stdout.write(`${args.out}: ${args.metric} of ${runs.length} run(s) (${episodes} episodes), ${image.width}x${image.height} PNG\n`);
  return 0;
}
