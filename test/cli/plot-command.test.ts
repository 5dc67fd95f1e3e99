import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MpcdError } from '../../src/core/errors.js';
import { learningCurveChart, SERIES_STYLES } from '../../src/cli/plot/learning-curve.js';
import { readRunSummary } from '../../src/cli/plot/run-summary.js';
import { plotCommand, type PlotArgs } from '../../src/cli/plot-command.js';
import { colourDistance, decodePng, hexToRgb, pixelAt, PNG_SIGNATURE, type DecodedPng } from './plot/decode-png.js';

const root = join(import.meta.dirname, '..', '..', '..');
const main = join(root, 'dist', 'src', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'mpcd-plot-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function mpcd(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface SyntheticEpisode {
  cost: number;
  success: boolean;
  model_version?: number;
}

/** A file as `mpcd run <config> --json > file` leaves it: text first, the JSON summary last. */
function writeSummary(name: string, config: string, episodes: SyntheticEpisode[]): string {
  const path = join(tmp, `${name}.json`);
  const summary = {
    config: `/somewhere/config/${config}.yaml`,
    planner: 'mppi',
    episodes: episodes.map((e) => ({ steps: 300, transitions: 300, overruns: 0, rss_mb: 120.5, ...e })),
    success_rate: episodes.filter((e) => e.success).length / episodes.length,
  };
  writeFileSync(path, `progress: 10/10 episodes\n${JSON.stringify(summary)}\n\n`);
  return path;
}

// Three runs whose curves never cross, so each marker's pixels belong to its own series:
// analytic-only fails every episode high up, the oracle succeeds low down, the learning run
// starts failing in between, improves, and gets a new model version every third episode.
const N = 10;
const analytic = writeSummary('a', 'cartpole-analytic', Array.from({ length: N }, (_, i) => ({ cost: 1000 + 10 * (i % 2), success: false })));
const oracle = writeSummary('o', 'cartpole-oracle', Array.from({ length: N }, (_, i) => ({ cost: 300 + 10 * (i % 2), success: true })));
const learning = writeSummary(
  'l',
  'cartpole-mismatch',
  Array.from({ length: N }, (_, i) => ({ cost: 800 - 20 * i, success: i >= 3, model_version: Math.floor(i / 3) })),
);
const files = [analytic, oracle, learning];

function near(png: DecodedPng, x: number, y: number, hex: string, tolerance = 10): boolean {
  return colourDistance(pixelAt(png, x, y), hexToRgb(hex)) <= tolerance;
}

test('plot writes a 1200x700 PNG with every run drawn where its data says', () => {
  const out = join(tmp, 'curves', 'learning.png'); // the folder does not exist yet
  const r = mpcd('plot', ...files, '--out', out, '--label', 'analytic only', '--label', 'oracle', '--label', 'learning');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /cost of 3 run\(s\)/);

  const file = readFileSync(out);
  assert.deepEqual(file.subarray(0, 8), PNG_SIGNATURE);
  assert.equal(file.toString('latin1', 12, 16), 'IHDR');
  assert.equal(file.readUInt32BE(16), 1200);
  assert.equal(file.readUInt32BE(20), 700);
  const png = decodePng(file);

  // The same chart, laid out again, says where each data point must have been drawn.
  const runs = files.map((f, i) => ({ label: ['analytic only', 'oracle', 'learning'][i]!, run: readRunSummary(f) }));
  const { layout } = learningCurveChart(runs, { metric: 'cost', width: 1200, height: 700 });
  runs.forEach(({ run }, s) => {
    const colour = SERIES_STYLES[s]!.colour;
    for (const e of run.episodes) {
      const x = layout.xToPx(e.episode);
      const y = layout.yToPx(e.cost!);
      if (e.success) {
        assert.ok(near(png, x, y, colour), `run ${s} episode ${e.episode}: filled marker in ${colour} at (${x}, ${y}), found ${pixelAt(png, x, y)}`);
      } else {
        // Hollow: white inside, the series colour on the ring.
        assert.ok(near(png, x, y, '#ffffff'), `run ${s} episode ${e.episode}: failed episode should be hollow, found ${pixelAt(png, x, y)}`);
        assert.ok(
          [-5, -4, 4, 5].some((d) => near(png, x, y + d, colour, 60)),
          `run ${s} episode ${e.episode}: hollow marker's ring in ${colour}`,
        );
      }
    }
  });

  // Model-version changes (episodes 4, 7, 10) are ticked in the learning run's colour above
  // the plot; episodes without a change are not.
  const learningColour = SERIES_STYLES[2]!.colour;
  const tickY = layout.plot.y - 7;
  for (const episode of [4, 7, 10]) assert.ok(near(png, layout.xToPx(episode), tickY, learningColour), `version tick at episode ${episode}`);
  for (const episode of [2, 5, 8]) assert.ok(near(png, layout.xToPx(episode), tickY, '#ffffff'), `no version tick at episode ${episode}`);
});

test('--metric success plots the trailing success rate on a 0..1 axis', () => {
  const out = join(tmp, 'success.png');
  const r = mpcd('plot', ...files, '--out', out, '--metric', 'success');
  assert.equal(r.code, 0, r.stderr);
  const png = decodePng(readFileSync(out));
  // Default labels, as the command chose them: the legend's width moves the plot.
  const runs = files.map((f) => ({ label: readRunSummary(f).defaultLabel, run: readRunSummary(f) }));
  const { layout } = learningCurveChart(runs, { metric: 'success', width: 1200, height: 700 });
  assert.deepEqual([layout.yTicks.min, layout.yTicks.max], [0, 1]);
  // Learning run, episode 6: successes in episodes 4..6 of the last five (2..6) = 3/5.
  assert.ok(near(png, layout.xToPx(6), layout.yToPx(0.6), SERIES_STYLES[2]!.colour), 'learning run at 3/5');
  // Oracle always succeeds: rate 1 (checked where the learning run, drawn over it, is still at 0).
  assert.ok(near(png, layout.xToPx(2), layout.yToPx(1), SERIES_STYLES[1]!.colour), 'oracle at 1');
});

test('labels default to the config file name', () => {
  assert.deepEqual(
    files.map((f) => readRunSummary(f).defaultLabel),
    ['cartpole-analytic', 'cartpole-oracle', 'cartpole-mismatch'],
  );
});

test('a summary that is not JSON is an MpcdError naming the file', () => {
  const bad = join(tmp, 'bad.json');
  writeFileSync(bad, 'run finished\n{"episodes": [ {"cost": 1, \n');
  assert.throws(
    () => readRunSummary(bad),
    (err: unknown) => err instanceof MpcdError && err.code === 'PLOT_INPUT' && err.message.includes(bad) && /not JSON/.test(err.message),
  );
  const r = mpcd('plot', analytic, bad, '--out', join(tmp, 'never.png'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.json/);
  assert.equal(existsSync(join(tmp, 'never.png')), false);
});

test('JSON that is not a run summary names the missing field', () => {
  const wrong = join(tmp, 'wrong.json');
  writeFileSync(wrong, JSON.stringify({ valid: [{ path: 'x.yaml' }] }));
  assert.throws(
    () => readRunSummary(wrong),
    (err: unknown) => err instanceof MpcdError && err.message.includes(wrong) && /episodes: expected array/.test(err.message),
  );
});

test('usage errors say what to do, and nothing is written', () => {
  const out = join(tmp, 'x.png');
  const args = { summaries: [analytic, oracle], out, labels: [], metric: 'cost' } as const;
  const rejects = (overrides: Partial<PlotArgs>, message: RegExp): void =>
    assert.throws(() => plotCommand({ ...args, ...overrides }), (err: unknown) => err instanceof MpcdError && message.test(err.message));
  rejects({ labels: ['only one'] }, /1 --label for 2 summaries; give one --label per summary/);
  rejects({ out: join(tmp, 'x.svg') }, /ending in \.png/);
  rejects({ summaries: [] }, /one or more run summary files/);
  rejects({ font: join(tmp, 'no-such-font.ttf') }, /no-such-font\.ttf does not exist/);
  const notAFont = join(tmp, 'not-a-font.ttf');
  writeFileSync(notAFont, 'plain text');
  rejects({ font: notAFont }, /not-a-font\.ttf: no text could be drawn with it/);
  assert.equal(existsSync(out), false);
  // The flags main.ts checks itself.
  const noOut = mpcd('plot', analytic);
  assert.equal(noOut.code, 1);
  assert.match(noOut.stderr, /plot needs --out FILE\.png/);
  const metric = mpcd('plot', analytic, '--out', out, '--metric', 'reward');
  assert.equal(metric.code, 1);
  assert.match(metric.stderr, /--metric expects cost or success, found "reward"/);
});

const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
test('with a font, the title is drawn', { skip: existsSync(DEJAVU) ? false : `${DEJAVU} is not installed` }, () => {
  const titled = join(tmp, 'titled.png');
  const untitled = join(tmp, 'untitled.png');
  assert.equal(mpcd('plot', oracle, '--out', titled, '--font', DEJAVU, '--title', 'Cart-pole').code, 0);
  assert.equal(mpcd('plot', oracle, '--out', untitled, '--font', DEJAVU, '--title', '').code, 0);
  const ink = (png: DecodedPng): number => {
    let n = 0;
    for (let y = 10; y < 50; y++) for (let x = 0; x < 900; x++) if (pixelAt(png, x, y)[0] < 100) n++;
    return n;
  };
  assert.ok(ink(decodePng(readFileSync(titled))) > 100, 'dark title text at the top');
  assert.equal(ink(decodePng(readFileSync(untitled))), 0);
});
