import type { RunSummary, PlottedEpisode } from './run-summary.js';
import { lineChart, type Chart, type ChartEvent, type ChartPoint } from './svg-chart.js';
import type { MarkerShape } from './svg-elements.js';

export type LearningCurveMetric = 'cost' | 'success';

export interface LabelledRun {
  readonly label: string;
  readonly run: RunSummary;
}

export interface LearningCurveOptions {
  readonly metric: LearningCurveMetric;
  readonly title?: string;
  readonly width?: number;
  readonly height?: number;
}

/**
 * Okabe-Ito colours (distinguishable with the common colour-vision deficiencies; yellow left out,
 * it vanishes on white), each paired with its own marker shape so the plot also reads in grey.
 */
export const SERIES_STYLES: readonly { readonly colour: string; readonly marker: MarkerShape }[] = [
  { colour: '#0072B2', marker: 'circle' },
  { colour: '#D55E00', marker: 'square' },
  { colour: '#009E73', marker: 'triangle' },
  { colour: '#CC79A7', marker: 'diamond' },
  { colour: '#E69F00', marker: 'circle' },
  { colour: '#56B4E9', marker: 'square' },
  { colour: '#000000', marker: 'triangle' },
];

/** Episodes per point of the success-rate curve: a single episode's 0/1 is too noisy to read. */
export const SUCCESS_WINDOW = 5;

/**
 * The learning-curve chart: per-episode cost (or trailing success rate) against episode, one
 * line per run; failed episodes hollow; model-version changes ticked along the x axis.
 */
export function learningCurveChart(runs: readonly LabelledRun[], options: LearningCurveOptions): Chart {
  const cost = options.metric === 'cost';
  return lineChart({
    width: options.width ?? 1200,
    height: options.height ?? 700,
    title: options.title ?? (cost ? 'Learning curve: cost per episode' : 'Learning curve: success rate'),
    xLabel: 'episode',
    yLabel: cost ? 'episode cost (lower is better)' : `success rate over the last ${SUCCESS_WINDOW} episodes`,
    integerX: true,
    includeZeroY: true,
    ...(cost ? {} : { yRange: [0, 1] as const }),
    hollowMeaning: 'failed episode',
    eventMeaning: 'new model version',
    series: runs.map(({ label, run }, i) => {
      const style = SERIES_STYLES[i % SERIES_STYLES.length]!;
      return { label, ...style, points: cost ? costPoints(run.episodes) : successPoints(run.episodes), events: modelChanges(run.episodes) };
    }),
  });
}

function costPoints(episodes: readonly PlottedEpisode[]): ChartPoint[] {
  return episodes.map((e) => ({ x: e.episode, y: e.cost, hollow: !e.success }));
}

function successPoints(episodes: readonly PlottedEpisode[]): ChartPoint[] {
  return episodes.map((e, i) => {
    const window = episodes.slice(Math.max(0, i + 1 - SUCCESS_WINDOW), i + 1);
    return { x: e.episode, y: window.filter((w) => w.success).length / window.length, hollow: !e.success };
  });
}

/** The first episode run with each new model version (the first version seen is not a change). */
export function modelChanges(episodes: readonly PlottedEpisode[]): ChartEvent[] {
  const changes: ChartEvent[] = [];
  let previous: number | string | null = null;
  for (const e of episodes) {
    if (e.modelVersion === null) continue;
    if (previous !== null && e.modelVersion !== previous) changes.push({ x: e.episode, label: typeof e.modelVersion === 'number' ? `v${e.modelVersion}` : e.modelVersion });
    previous = e.modelVersion;
  }
  return changes;
}
