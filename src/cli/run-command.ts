import { join, resolve } from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { modelLabel } from '../models/continuous-model.js';
import { unsupportedNotice } from '../models/rigid-body/rigid-body-dynamics.js';
import { LOG_WRITE_FAILED, type TransitionLogFailure } from '../log/transition-log-writer.js';
import { SimSession, type EpisodeResult } from '../loop/sim-session.js';
import type { RefitLatencyEffect } from '../telemetry/refit-latency-comparison.js';
import { createLogger } from '../telemetry/logger.js';
import { peakRssMb } from '../telemetry/peak-rss.js';
import { plantOpener } from './open-plant.js';
import { progressBar } from './progress.js';
import { round } from './round.js';

export interface RunArgs {
  config: string;
  episodes: number;
  seed: number | undefined;
  realtime: boolean;
  json: boolean;
  log: string | undefined; // path, or undefined for the config's default
  noLog: boolean;
  modelDir: string | undefined;
  /** --mqtt URL / --serial PATH: the robot is there (plant.kind mqtt / serial). */
  mqttUrl?: string | undefined;
  serialPath?: string | undefined;
}

/**
 * `mpcd run`: N episodes against the configured plant (simulation, or a robot over MQTT or
 * serial, in real time); a human summary, or one JSON object as the last line.
 */
export async function runCommand(args: RunArgs): Promise<number> {
  const loaded = await loadConfig(args.config);
  const c = loaded.config;
  const logPath = args.noLog || !c.log.enabled ? undefined : (args.log ?? defaultLogPath(c.log.dir, c.name ?? 'run'));
  const session = await SimSession.create(loaded, {
    ...(args.seed !== undefined ? { seed: args.seed } : {}),
    realtime: args.realtime,
    ...(logPath !== undefined ? { logPath } : {}),
    ...(args.modelDir !== undefined ? { modelDir: args.modelDir } : {}),
    openPlant: plantOpener(loaded, {
      realtime: args.realtime,
      ...(args.mqttUrl !== undefined ? { mqttUrl: args.mqttUrl } : {}),
      ...(args.serialPath !== undefined ? { serialPath: args.serialPath } : {}),
    }),
  });
  const log = createLogger();
  const notice = c.model.kind === 'rigid_body' ? unsupportedNotice(c.model.tree) : undefined;
  if (notice !== undefined) log.warn({ code: 'MODEL_UNREPRESENTED' }, notice);
  log.info(
    {
      config: loaded.path,
      model: modelLabel(c.model),
      planner: { kind: c.planner.kind, samples: c.planner.samples, horizon: c.planner.horizon, iterations: c.planner.iterations },
      plant: session.plantInfo,
      period_s: c.control.period,
      seed: args.seed ?? c.seed,
      episodes: args.episodes,
      transition_log: logPath ?? null,
    },
    'run starting',
  );
  const results: EpisodeResult[] = [];
  const bar = progressBar(args.episodes, 'episodes');
  try {
    for (let e = 0; e < args.episodes; e++) {
      const r = await session.runEpisode(e);
      results.push(r);
      log.debug({ episode: r.episode, steps: r.steps, cost: r.cost, success: r.success, overruns: r.overruns }, 'episode done');
      bar.update(e + 1, { info: `success ${results.filter((x) => x.success).length}/${e + 1}` });
    }
  } finally {
    bar.stop();
    await session.close();
  }
  const latency = session.latency.summary();
  const ms = (l: { p50: number; p99: number; max: number; count: number }) => ({ p50: round(l.p50, 3), p99: round(l.p99, 3), max: round(l.max, 3), ticks: l.count });
  const refit = session.refitLatency;
  const ratio = (r: number) => round(r, 3);
  const effectRounded = (e: RefitLatencyEffect | undefined) =>
    e === undefined
      ? null
      : { p99_ratio: ratio(e.p99_ratio), p99_ratio_ci95: e.p99_ratio_ci95.map(ratio), p50_ratio: ratio(e.p50_ratio), p50_ratio_ci95: e.p50_ratio_ci95.map(ratio), block_ticks: e.block_ticks };
  const learning = session.learning;
  const successes = results.filter((r) => r.success).length;
  const goalsReached = results.reduce((n, r) => n + (r.goals_reached ?? 0), 0);
  const goalTotal = results.reduce((n, r) => n + (r.goals ?? 0), 0);
  const excesses = results.flatMap((r) => (r.joint_limit_excess === undefined ? [] : [r.joint_limit_excess]));
  const limitExcess = excesses.length > 0 ? Math.max(...excesses) : undefined;
  const rssAt = (n: number): number | undefined => results[Math.min(n, results.length) - 1]?.rss_mb;
  const summary = {
    config: loaded.path,
    planner: c.planner.kind,
    episodes: results.map((r) => ({
      episode: r.episode,
      steps: r.steps,
      cost: round(r.cost, 3),
      success: r.success,
      transitions: r.transitions,
      overruns: r.overruns,
      model_version: r.model_version,
      rss_mb: round(r.rss_mb, 1),
      ...(r.goals !== undefined ? { goals_reached: r.goals_reached, goals: r.goals } : {}),
      ...(r.joint_limit_excess !== undefined ? { joint_limit_excess: round(r.joint_limit_excess, 6) } : {}),
    })),
    success_rate: successes / Math.max(1, results.length),
    ...(goalTotal > 0 ? { goals_reached: goalsReached, goals: goalTotal } : {}),
    ...(limitExcess !== undefined ? { joint_limit_excess: round(limitExcess, 6) } : {}),
    latency_ms: {
      p50: round(latency.p50, 3),
      p99: round(latency.p99, 3),
      max: round(latency.max, 3),
      mean: round(latency.mean, 3),
      // Planning latency while a refit ran in the worker thread, and while none did; null where
      // no tick was (a lock-step run that pauses for refits plans none during one).
      during_refit: learning !== undefined && refit.duringRefit.count > 0 ? ms(refit.duringRefit.summary()) : null,
      no_refit: learning !== undefined && refit.noRefit.count > 0 ? ms(refit.noRefit.summary()) : null,
      // during / no refit, with 95 % intervals from a block bootstrap: an interval that holds 1
      // is a difference this run cannot tell from the host's noise. null with too few ticks.
      refit_effect: learning !== undefined ? effectRounded(refit.effect()) : null,
    },
    overruns: results.reduce((s, r) => s + r.overruns, 0),
    safety: session.safety.counts,
    // A robot over a wire: frames dropped on the way in (by reason), readings dropped for their stamps (by reason),
    // clock steps, robot restarts, link downs and ups; null in simulation.
    link: session.link?.counts ?? null,
    // Goals from the robot's software over the wire: taken, and rejected by reason; null where the link carries none.
    goals_received: session.goalCounts ?? null,
    model:
      learning === undefined
        ? null
        : {
            backend: learning.backend,
            store: learning.store.dir,
            start_version: learning.startVersion,
            final_version: learning.version,
            refits: learning.refits.map((r) => ({ ...r, score: round(r.score, 5), previous_score: round(r.previous_score, 5), seconds: round(r.seconds, 2) })),
          },
    memory: {
      peak_rss_mb: round(peakRssMb(), 1),
      rss_mb_after_episode_10: rssAt(10) !== undefined ? round(rssAt(10)!, 1) : null,
      rss_mb_after_last: rssAt(results.length) !== undefined ? round(rssAt(results.length)!, 1) : null,
    },
    log: logPath !== undefined ? resolve(logPath) : null,
    // The transition log's write failure (disk full, read-only, I/O error): logging stopped
    // there, control went on; records = transitions in the file. null when it wrote throughout.
    log_fault: logFault(session.logFailure),
  };
  if (args.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const lines = [
      `${c.name ?? loaded.path}: ${successes}/${results.length} episodes succeeded (${c.planner.kind}, K=${c.planner.samples}, H=${c.planner.horizon})`,
      ...results.map(
        (r) =>
          `  episode ${String(r.episode + 1).padStart(3)}  ${r.success ? 'success' : 'FAILED '}  cost ${r.cost.toFixed(1).padStart(9)}  steps ${r.steps}${r.goals !== undefined ? `  goals ${r.goals_reached}/${r.goals}` : ''}${r.overruns > 0 ? `  overruns ${r.overruns}` : ''}${learning !== undefined ? `  model v${r.model_version}` : ''}`,
      ),
      ...(goalTotal > 0 ? [`goals reached: ${goalsReached}/${goalTotal}`] : []),
      ...(limitExcess !== undefined ? [`joints past their ranges: ${limitExcess > 0 ? `by up to ${limitExcess.toExponential(2)} (rad or m)` : 'never'}`] : []),
      `planning latency: p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms, max ${latency.max.toFixed(2)} ms over ${latency.count} ticks; overruns ${summary.overruns}`,
      ...(learning === undefined
        ? []
        : [
            `residual model: v${learning.startVersion} at start, v${learning.version} at the end (${learning.backend} backend, store ${learning.store.dir}); ${learning.refits.length} refits, ${learning.refits.filter((r) => r.accepted).length} swapped in`,
          ]),
      ...(summary.link === null
        ? []
        : [
            `link: ${summary.link.frames_dropped_total} frames dropped, ${summary.link.link_downs} link downs, ${summary.link.link_ups} link ups`,
            `  readings: ${describeCounts(summary.link.readings_dropped) || 'none'} dropped for their stamps, ${summary.link.readings_superseded} superseded before a tick read them; ` +
              `${summary.link.clock_steps} robot clock steps (largest ${summary.link.largest_clock_step_s.toFixed(3)} s), ${summary.link.robot_restarts} robot restarts`,
          ]),
      `memory: peak RSS ${summary.memory.peak_rss_mb} MB`,
      `transition log: ${summary.log ?? 'off'}`,
      ...(summary.log_fault === null
        ? []
        : [
            `transition log FAILED (${summary.log_fault.errno}) after ${summary.log_fault.records} transitions: logging stopped there, control went on`,
          ]),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return 0;
}

/** `{ a: 2, b: 1 }` as `2 a, 1 b`. */
function describeCounts(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

/** The run summary's `log_fault`. */
export interface LogFault {
  code: typeof LOG_WRITE_FAILED;
  /** The failed call's errno code: ENOSPC, EROFS, EIO, EDQUOT, ... (SHORT_WRITE, EUNKNOWN). */
  errno: string;
  /** Transitions written before the failure: the ones the file holds. */
  records: number;
}

export function logFault(failure: TransitionLogFailure | undefined): LogFault | null {
  return failure === undefined ? null : { code: LOG_WRITE_FAILED, errno: failure.code, records: failure.records };
}

function defaultLogPath(dir: string, name: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(dir, `${name}-${stamp}.mcap`);
}
