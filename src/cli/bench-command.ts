import type { Config } from '../config/schema.js';
import { MpcdError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { buildTaskCost } from '../costs/build-task-cost.js';
import { buildAnalyticModel, buildModel } from '../models/build-model.js';
import type { EnsembleSnapshot } from '../models/residual/ensemble-snapshot.js';
import { HybridModel } from '../models/hybrid-model.js';
import { randomSnapshot } from '../models/residual/random-snapshot.js';
import { ResidualPredictor } from '../models/residual/residual-predictor.js';
import type { ResidualSpec } from '../models/residual/residual-spec.js';
import { prepareResidualKernel } from '../models/residual/prepare-kernel.js';
import { selectTfBackend } from '../models/residual/tf-backend.js';
import { rolloutThreads } from '../planning/parallel-rollout.js';
import { residualSpecForConfig } from '../learning/residual-spec-for-config.js';
import { buildPlanner } from '../planning/build-planner.js';
import { LatencyStats } from '../telemetry/latency-stats.js';
import { compareMujocoRollouts, type MujocoRolloutComparison } from './bench-mujoco-rollouts.js';
import { OpByOpMppi, type TickPlanner } from './bench-op-by-op.js';
import { benchState, mlpFlopPerSampleStep, samplesPerTick, workloads, type Workload } from './bench-workloads.js';
import { progressBar } from './progress.js';
import { round } from './round.js';

/** The op-by-op baseline's line: W1's MPPI iteration written as one tfjs op per arithmetic step. */
export const OP_BY_OP = 'W1-op-by-op';

export interface BenchArgs {
  json: boolean;
  iterations: number;
  warmup: number;
  /** Names of the workloads to run (W0..W3, W1-op-by-op); undefined runs them all. */
  only: readonly string[] | undefined;
  /** Time W1-op-by-op after W1 (unless `only` leaves both out). */
  baseline: boolean;
}

export interface BenchResult {
  description: string;
  planner: 'mppi' | 'cem';
  samples: number; // K of the first planner iteration
  horizon: number;
  /** Ticks timed, after `warmup` untimed ones. */
  iterations: number;
  warmup: number;
  median_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  /** Model steps one tick evaluates: samples x horizon, summed over the planner's iterations. */
  rollout_steps: number;
  rollout_steps_per_s: number;
  /** With a residual: the tfjs backend selected, MLP arithmetic per tick and the rate reached at the median. */
  backend?: string;
  mlp_mflop?: number;
  mlp_gflop_per_s?: number;
  /** The planner's MLP kernel, e.g. native-avx512. */
  kernel?: string;
  /** Threads sharing the samples. */
  threads?: number;
  /** On W1, with the baseline: W1-op-by-op's median over W1's. */
  speedup_vs_op_by_op?: number;
  /** Rigid-body workloads from an MJCF: the same rollouts through MuJoCo's mj_step. */
  mujoco_rollouts?: MujocoRolloutComparison;
}

/**
 * `mpcd bench`: planning time per tick on fixed workloads and seeds. Each tick is what one
 * control period does: shift the warm start, optimize from the bench state, read the action.
 * With the baseline, W1 is also run op by op in tfjs and the ratio of the medians is reported.
 */
export async function benchCommand(args: BenchArgs): Promise<number> {
  const all = await workloads();
  const selected = selection(args.only, all);
  const results: Record<string, BenchResult> = {};
  const report = (name: string, r: BenchResult): void => {
    results[name] = r;
    if (!args.json) process.stdout.write(describe(name, r));
  };
  for (const w of all) {
    if (selected.has(w.name)) {
      const r = await benchWorkload(w, args);
      if (w.name === 'W4') r.mujoco_rollouts = await compareMujocoRollouts(w.config, w.state ?? benchState);
      report(w.name, r);
    }
    if (w.name !== 'W1' || !args.baseline || !(selected.has('W1') || selected.has(OP_BY_OP))) continue;
    const base = await benchOpByOp(w, args);
    report(OP_BY_OP, base);
    const w1 = results.W1;
    if (w1 !== undefined) {
      w1.speedup_vs_op_by_op = round(base.median_ms / w1.median_ms, 2);
      if (!args.json) process.stdout.write(`    ${OP_BY_OP} median / W1 median = ${w1.speedup_vs_op_by_op.toFixed(2)}\n`);
    }
  }
  if (args.json) process.stdout.write(`${JSON.stringify(results)}\n`);
  return 0;
}

/** The names `--only` asks for, each checked; all of them without `--only`. */
function selection(only: readonly string[] | undefined, all: readonly Workload[]): Set<string> {
  const known = [...all.map((w) => w.name), OP_BY_OP];
  if (only === undefined) return new Set(known);
  const unknown = only.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new MpcdError('USAGE', `--only: no workload ${unknown.map((n) => `"${n}"`).join(', ')}; the workloads are ${known.join(', ')}`);
  return new Set(only);
}

/** The seeded ensemble every residual workload and the baseline use. */
function benchSnapshot(config: Config, spec: ResidualSpec): EnsembleSnapshot {
  return randomSnapshot(spec, new Rng(config.seed));
}

async function benchWorkload(w: Workload, args: BenchArgs): Promise<BenchResult> {
  const c = w.config;
  const p = c.planner;
  const model = buildModel(c, p.samples);
  const steps = samplesPerTick(p) * p.horizon;
  let mlp: { backend: string; kernel: string; flop: number } | undefined;
  if (model instanceof HybridModel) {
    const backend = await selectTfBackend(c.model.residual?.backend ?? 'auto');
    const kernel = (await prepareResidualKernel(c))!.name;
    const spec = residualSpecForConfig(c, model.analytic)!;
    model.setResidual(new ResidualPredictor(benchSnapshot(c, spec), p.samples), 1);
    mlp = { backend, kernel, flop: mlpFlopPerSampleStep(spec) * steps };
  }
  const planner = buildPlanner(c, model, buildTaskCost(c, model), new Rng(c.seed));
  try {
    const s = timeTicks(planner, args.warmup, args.iterations, w.name, w.state ?? benchState);
    return {
      ...summarize(w.description, c, args.warmup, args.iterations, s, steps),
      threads: rolloutThreads(c),
      ...(mlp !== undefined ? { backend: mlp.backend, kernel: mlp.kernel, ...mlpRate(mlp.flop, s) } : {}),
    };
  } finally {
    planner.dispose();
    if (model instanceof HybridModel) model.setResidual(undefined, 0);
  }
}

/** W1 op by op, on the tfjs backend `auto` picks; slow, so fewer ticks (at most as many as asked). */
async function benchOpByOp(w1: Workload, args: BenchArgs): Promise<BenchResult> {
  const c = w1.config;
  const backend = await selectTfBackend('auto');
  const spec = residualSpecForConfig(c, buildAnalyticModel(c, 1))!;
  const iterations = Math.min(args.iterations, Math.max(20, Math.ceil(args.iterations / 5)));
  const warmup = Math.min(args.warmup, Math.max(5, Math.ceil(args.warmup / 5)));
  const planner = new OpByOpMppi(c, benchSnapshot(c, spec), new Rng(c.seed));
  try {
    const s = timeTicks(planner, warmup, iterations, OP_BY_OP);
    const steps = samplesPerTick(c.planner) * c.planner.horizon;
    return {
      ...summarize(`W1's MPPI iteration op by op in tfjs (${backend}): one tensor op per arithmetic step, matMul/add/relu per member`, c, warmup, iterations, s, steps),
      backend,
      ...mlpRate(mlpFlopPerSampleStep(spec) * steps, s),
    };
  } finally {
    planner.dispose();
  }
}

type TickStats = ReturnType<LatencyStats['summary']>;

/** Times `iterations` ticks after `warmup` untimed ones, with a progress bar on a terminal. */
function timeTicks(planner: TickPlanner, warmup: number, iterations: number, label: string, state: Float32Array = benchState): TickStats {
  const action = new Float32Array(planner.actionDim);
  const stats = new LatencyStats();
  const bar = progressBar(warmup + iterations, label);
  for (let i = 0; i < warmup + iterations; i++) {
    const t0 = performance.now();
    planner.advance(1);
    planner.optimize(state);
    planner.action(action);
    const ms = performance.now() - t0;
    if (i >= warmup) stats.add(ms);
    bar.update(i + 1);
  }
  bar.stop();
  return stats.summary();
}

function summarize(description: string, c: Config, warmup: number, iterations: number, s: TickStats, steps: number): BenchResult {
  return {
    description,
    planner: c.planner.kind,
    samples: c.planner.samples,
    horizon: c.planner.horizon,
    iterations,
    warmup,
    median_ms: round(s.p50),
    p99_ms: round(s.p99),
    max_ms: round(s.max),
    mean_ms: round(s.mean),
    rollout_steps: steps,
    rollout_steps_per_s: Math.round(steps / (s.p50 / 1000)),
  };
}

/** MLP arithmetic per tick and the rate it ran at, at the median tick. */
function mlpRate(flop: number, s: TickStats): { mlp_mflop: number; mlp_gflop_per_s: number } {
  return { mlp_mflop: round(flop / 1e6, 1), mlp_gflop_per_s: round(flop / 1e9 / (s.p50 / 1000), 2) };
}

function describe(name: string, r: BenchResult): string {
  const rate = r.rollout_steps_per_s >= 1e6 ? `${(r.rollout_steps_per_s / 1e6).toFixed(2)} M` : `${(r.rollout_steps_per_s / 1e3).toFixed(1)} k`;
  let text =
    `${name}  ${r.description}\n` +
    `    median ${r.median_ms.toFixed(2)} ms  p99 ${r.p99_ms.toFixed(2)} ms  max ${r.max_ms.toFixed(2)} ms  ` +
    `(${rate} rollout steps/s, ${r.threads !== undefined ? `${r.threads} threads, ` : ''}${r.iterations} iterations after ${r.warmup} warm-up)\n`;
  if (r.mlp_mflop !== undefined) {
    const where = [r.kernel !== undefined ? `kernel ${r.kernel}` : '', r.backend !== undefined ? `tfjs backend ${r.backend}` : ''].filter((s) => s !== '').join(', ');
    text += `    residual MLP: ${r.mlp_mflop} MFLOP per iteration, ${r.mlp_gflop_per_s} GFLOP/s at the median (${where})\n`;
  }
  if (r.mujoco_rollouts !== undefined) {
    const b = r.mujoco_rollouts;
    text += `    rollouts per sample-step, one thread: rigid-body model ${b.model_ns_per_sample_step} ns, MuJoCo mj_step ${b.mujoco_ns_per_sample_step} ns (${b.mujoco_samples_timed} samples): ${b.speedup}x\n`;
  }
  return text;
}
