import { formatTick, niceTicks, type Ticks } from './nice-ticks.js';
import { el, escapeXml, marker, polylinePath, type MarkerShape } from './svg-elements.js';

/**
 * A line chart as an SVG string: axes with nice ticks, grid, one polyline with markers per
 * series, hollow markers for flagged points, small event ticks in a strip above the plot (one
 * lane per series with events), and a legend to the right of the plot, where it can never hide data.
 */

export interface ChartPoint {
  readonly x: number;
  /** null: no value here; the line has a gap. */
  readonly y: number | null;
  /** Drawn as an outline only (e.g. a failed episode). */
  readonly hollow?: boolean;
}

/** Something that happened at x, drawn as a short labelled tick above the plot. */
export interface ChartEvent {
  readonly x: number;
  readonly label: string;
}

export interface ChartSeries {
  readonly label: string;
  readonly colour: string;
  readonly marker: MarkerShape;
  readonly points: readonly ChartPoint[];
  readonly events?: readonly ChartEvent[];
}

export interface LineChartSpec {
  readonly width: number;
  readonly height: number;
  readonly title?: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  /** Fixed y range (e.g. [0, 1] for a rate); otherwise fitted to the data. */
  readonly yRange?: readonly [number, number];
  /** Fit the y range to include 0, so that differences are not exaggerated. */
  readonly includeZeroY?: boolean;
  /** x values are counts: whole-number ticks only. */
  readonly integerX?: boolean;
  /** Legend text explaining hollow markers; shown when some point is hollow. */
  readonly hollowMeaning?: string;
  /** Legend text explaining event ticks; shown when some series has events. */
  readonly eventMeaning?: string;
}

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface ChartLayout {
  readonly plot: Rect;
  readonly legend: Rect;
  readonly xTicks: Ticks;
  readonly yTicks: Ticks;
  xToPx(x: number): number;
  yToPx(y: number): number;
}

export interface Chart {
  readonly svg: string;
  readonly layout: ChartLayout;
}

/** Fonts tried in order; the renderer falls back to any font it has when none is installed. */
export const CHART_FONT_FAMILY = 'DejaVu Sans, Liberation Sans, Noto Sans, Helvetica, Arial, sans-serif';

const FONT = { title: 24, axisLabel: 18, tick: 15, legend: 16, event: 11 } as const;
const INK = '#222222';
const GRID = '#e4e4e4';
const NOTE = '#666666';
const MARKER_R = 4.5;
const LINE_WIDTH = 2.25;
const EVENT_LANE = 22; // px between the event lanes of successive series
const LEGEND_ROW = 28;

export function lineChart(spec: LineChartSpec): Chart {
  const layout = chartLayout(spec);
  const { plot } = layout;
  const parts: string[] = [el('rect', { x: 0, y: 0, width: spec.width, height: spec.height, fill: '#ffffff' })];
  parts.push(grid(layout), axes(layout));
  parts.push(
    text(plot.x + plot.width / 2, spec.height - 20, spec.xLabel, { size: FONT.axisLabel, anchor: 'middle' }),
    el(
      'text',
      { transform: `translate(24 ${plot.y + plot.height / 2}) rotate(-90)`, 'text-anchor': 'middle', 'font-size': FONT.axisLabel, fill: INK, y: FONT.axisLabel * 0.35 },
      escapeXml(spec.yLabel),
    ),
  );
  if (spec.title !== undefined) {
    parts.push(text(plot.x + plot.width / 2, 38, spec.title, { size: FONT.title, anchor: 'middle', weight: 'bold' }));
  }
  spec.series.filter((s) => (s.events?.length ?? 0) > 0).forEach((s, lane) => parts.push(events(s, lane, layout)));
  for (const s of spec.series) parts.push(seriesLine(s, layout), seriesMarkers(s, layout));
  parts.push(legend(spec, layout));
  const svg = el(
    'svg',
    { xmlns: 'http://www.w3.org/2000/svg', width: spec.width, height: spec.height, viewBox: `0 0 ${spec.width} ${spec.height}`, 'font-family': CHART_FONT_FAMILY },
    ...parts,
  );
  return { svg, layout };
}

/** Where the plot and legend go; text widths are estimated (about 0.6 em per character). */
function chartLayout(spec: LineChartSpec): ChartLayout {
  const xs = spec.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = spec.series.flatMap((s) => s.points.flatMap((p) => (p.y === null ? [] : [p.y])));
  const legendLabels = [...spec.series.map((s) => s.label), spec.hollowMeaning ?? '', spec.eventMeaning ?? ''];
  const legendChars = Math.max(...legendLabels.map((l) => l.length));
  const legendWidth = clamp(64 + legendChars * FONT.legend * 0.6, 170, spec.width * 0.35);
  // Event ticks get their own strip above the plot, one lane per series that has events, so they
  // never sit on data (a success rate of 0 or 1 runs along the plot's edges).
  const eventLanes = spec.series.filter((s) => (s.events?.length ?? 0) > 0).length;
  const top = (spec.title !== undefined ? 64 : 24) + eventLanes * EVENT_LANE;
  const bottom = 76;
  const height = spec.height - top - bottom;

  const [yLo, yHi] = spec.yRange ?? yDataRange(ys, spec.includeZeroY ?? false);
  const yTicks = niceTicks(yLo, yHi, clamp(Math.round(height / 70), 3, 10));
  const tickChars = Math.max(...yTicks.values.map((v) => formatTick(v, yTicks).length));
  const left = 44 + 12 + tickChars * FONT.tick * 0.6;
  const width = spec.width - left - legendWidth - 36;
  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs), clamp(Math.round(width / 90), 3, 12), spec.integerX ?? false);

  const plot = { x: left, y: top, width, height };
  const xToPx = (x: number): number => plot.x + ((x - xTicks.min) / (xTicks.max - xTicks.min)) * plot.width;
  const yToPx = (y: number): number => plot.y + plot.height - ((y - yTicks.min) / (yTicks.max - yTicks.min)) * plot.height;
  const legendRows = spec.series.length + (showsHollowNote(spec) ? 1 : 0) + (showsEventNote(spec) ? 1 : 0);
  const legend = { x: plot.x + plot.width + 20, y: plot.y, width: legendWidth, height: legendRows * LEGEND_ROW + 16 };
  return { plot, legend, xTicks, yTicks, xToPx, yToPx };
}

function yDataRange(ys: readonly number[], includeZero: boolean): [number, number] {
  if (ys.length === 0) return [0, 1];
  let lo = Math.min(...ys);
  let hi = Math.max(...ys);
  if (includeZero) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  return [lo, hi];
}

function grid({ plot, xTicks, yTicks, xToPx, yToPx }: ChartLayout): string {
  const lines = [
    ...xTicks.values.map((v) => el('line', { x1: xToPx(v), y1: plot.y, x2: xToPx(v), y2: plot.y + plot.height })),
    ...yTicks.values.map((v) => el('line', { x1: plot.x, y1: yToPx(v), x2: plot.x + plot.width, y2: yToPx(v) })),
  ];
  return el('g', { stroke: GRID, 'stroke-width': 1 }, ...lines);
}

function axes({ plot, xTicks, yTicks, xToPx, yToPx }: ChartLayout): string {
  const bottom = plot.y + plot.height;
  const parts = [
    el('line', { x1: plot.x, y1: bottom, x2: plot.x + plot.width, y2: bottom }),
    el('line', { x1: plot.x, y1: plot.y, x2: plot.x, y2: bottom }),
    ...xTicks.values.map((v) => el('line', { x1: xToPx(v), y1: bottom, x2: xToPx(v), y2: bottom + 6 })),
    ...yTicks.values.map((v) => el('line', { x1: plot.x - 6, y1: yToPx(v), x2: plot.x, y2: yToPx(v) })),
  ];
  const labels = [
    ...xTicks.values.map((v) => text(xToPx(v), bottom + 10 + FONT.tick, formatTick(v, xTicks), { size: FONT.tick, anchor: 'middle' })),
    ...yTicks.values.map((v) => text(plot.x - 12, yToPx(v) + FONT.tick * 0.35, formatTick(v, yTicks), { size: FONT.tick, anchor: 'end' })),
  ];
  return el('g', {}, el('g', { stroke: INK, 'stroke-width': 1.25 }, ...parts), ...labels);
}

/** The series' line, broken where a value is missing. */
function seriesLine(s: ChartSeries, { xToPx, yToPx }: ChartLayout): string {
  const runs: [number, number][][] = [[]];
  for (const p of s.points) {
    if (p.y === null) runs.push([]);
    else runs.at(-1)!.push([xToPx(p.x), yToPx(p.y)]);
  }
  const d = runs.filter((r) => r.length > 0).map(polylinePath).join('');
  if (d === '') return '';
  return el('path', { d, fill: 'none', stroke: s.colour, 'stroke-width': LINE_WIDTH, 'stroke-linejoin': 'round', 'stroke-linecap': 'round' });
}

function seriesMarkers(s: ChartSeries, { xToPx, yToPx }: ChartLayout): string {
  const marks = s.points.flatMap((p) =>
    p.y === null ? [] : [marker(s.marker, xToPx(p.x), yToPx(p.y), MARKER_R, markerStyle(s.colour, p.hollow ?? false))],
  );
  return el('g', {}, ...marks);
}

function markerStyle(colour: string, hollow: boolean): Record<string, string | number> {
  return hollow ? { fill: '#ffffff', stroke: colour, 'stroke-width': 2 } : { fill: colour, stroke: colour, 'stroke-width': 1 };
}

/**
 * Event ticks above the plot, one lane per series so runs do not overprint each other.
 * A label is left out where it would collide with the previous one in its lane.
 */
function events(s: ChartSeries, lane: number, { plot, xToPx }: ChartLayout): string {
  if (s.events === undefined || s.events.length === 0) return '';
  const base = plot.y - 3 - lane * EVENT_LANE;
  const parts: string[] = [];
  let lastLabelEnd = -Infinity;
  for (const e of s.events) {
    const x = xToPx(e.x);
    parts.push(el('line', { x1: x, y1: base, x2: x, y2: base - 9, stroke: s.colour, 'stroke-width': 2 }));
    const halfWidth = (e.label.length * FONT.event * 0.6) / 2;
    if (x - halfWidth > lastLabelEnd + 3) {
      parts.push(text(x, base - 11, e.label, { size: FONT.event, anchor: 'middle', fill: s.colour }));
      lastLabelEnd = x + halfWidth;
    }
  }
  return el('g', {}, ...parts);
}

function showsHollowNote(spec: LineChartSpec): boolean {
  return spec.hollowMeaning !== undefined && spec.series.some((s) => s.points.some((p) => p.hollow === true));
}

function showsEventNote(spec: LineChartSpec): boolean {
  return spec.eventMeaning !== undefined && spec.series.some((s) => (s.events?.length ?? 0) > 0);
}

function legend(spec: LineChartSpec, { legend: box }: ChartLayout): string {
  const rows: string[] = [];
  let y = box.y + 22;
  const symbolX = box.x + 14;
  const labelX = symbolX + 40;
  for (const s of spec.series) {
    rows.push(
      el('line', { x1: symbolX, y1: y, x2: symbolX + 30, y2: y, stroke: s.colour, 'stroke-width': LINE_WIDTH }),
      marker(s.marker, symbolX + 15, y, MARKER_R, markerStyle(s.colour, false)),
      text(labelX, y + FONT.legend * 0.35, s.label, { size: FONT.legend }),
    );
    y += LEGEND_ROW;
  }
  const notes: string[] = [];
  if (spec.hollowMeaning !== undefined && showsHollowNote(spec)) {
    notes.push(
      marker('circle', symbolX + 15, y, MARKER_R, markerStyle(NOTE, true)),
      text(labelX, y + FONT.legend * 0.35, spec.hollowMeaning, { size: FONT.legend, fill: NOTE }),
    );
    y += LEGEND_ROW;
  }
  if (spec.eventMeaning !== undefined && showsEventNote(spec)) {
    notes.push(
      el('line', { x1: symbolX + 15, y1: y + 5, x2: symbolX + 15, y2: y - 5, stroke: NOTE, 'stroke-width': 2 }),
      text(labelX, y + FONT.legend * 0.35, spec.eventMeaning, { size: FONT.legend, fill: NOTE }),
    );
    y += LEGEND_ROW;
  }
  const frame = el('rect', { x: box.x, y: box.y, width: box.width, height: box.height, fill: '#ffffff', stroke: '#bbbbbb', 'stroke-width': 1, rx: 4 });
  return el('g', {}, frame, ...rows, ...notes);
}

interface TextStyle {
  readonly size: number;
  readonly anchor?: 'start' | 'middle' | 'end';
  readonly weight?: 'bold';
  readonly fill?: string;
}

function text(x: number, y: number, content: string, style: TextStyle): string {
  return el(
    'text',
    { x, y, 'font-size': style.size, 'text-anchor': style.anchor, 'font-weight': style.weight, fill: style.fill ?? INK },
    escapeXml(content),
  );
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
