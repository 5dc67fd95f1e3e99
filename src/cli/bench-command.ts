import { Rng } from '../core/rng.js';
import { buildTaskCost } from '../costs/build-task-cost.js';
import { buildModel } from '../models/build-model.js';
import { HybridModel } from '../models/hybrid-model.js';
import { macsPerSample, randomSnapshot } from '../models/residual/random-snapshot.js';
import { ResidualPredictor } from '../models/residual/residual-predictor.js';
import { selectTfBackend } from '../models/residual/tf-backend.js';
import { residualSpecForConfig } from '../learning/residual-spec-for-config.js';
import { buildPlanner } from '../planning/build-planner.js';
import { LatencyStats } from '../telemetry/latency-stats.js';
import { benchState, workloads } from './bench-workloads.js';
import { progressBar } from './progress.js';
import { round } from './round.js';

export interface BenchArgs {
  json: boolean;
  iterations: number;
  warmup: number;
  only: string | undefined;
}

export interface BenchResult {
  description: string;
  samples: number;
  horizon: number;
  iterations: number;
  median_ms: number;
  p99_ms: number;
  max_ms: number;
  rollout_steps_per_s: number;
  /** With a residual: its tfjs backend, MLP arithmetic per iteration and the rate reached at the median. */
  backend?: string;
  mlp_mflop?: number;
  mlp_gflop_per_s?: number;
}

/**
 * `mpcd bench`: planning time per iteration on fixed workloads and seeds. Each iteration is what
 * one control tick does: shift the warm start, optimize from the bench state, read the action.
 */
export async function benchCommand(args: BenchArgs): Promise<number> {
  const results: Record<string, BenchResult> = {};
  const selected = workloads().filter((w) => args.only === undefined || w.name === args.only);
  for (const w of selected) {
    const c = w.config;
    const model = buildModel(c, c.planner.samples);
    let backend: string | undefined;
    let mlpFlop = 0;
    if (model instanceof HybridModel) {
      backend = await selectTfBackend(c.model.residual?.backend ?? 'auto');
      const spec = residualSpecForConfig(c, model.analytic)!;
      model.setResidual(new ResidualPredictor(randomSnapshot(spec, new Rng(c.seed)), c.planner.samples), 1);
      mlpFlop = 2 * macsPerSample(spec) * c.planner.samples * c.planner.horizon * c.planner.iterations;
    }
    const cost = buildTaskCost(c, model);
    const planner = buildPlanner(c, model, cost, new Rng(c.seed));
    const action = new Float32Array(planner.actionDim);
    const stats = new LatencyStats();
    const bar = progressBar(args.warmup + args.iterations, w.name);
    for (let i = 0; i < args.warmup + args.iterations; i++) {
      const t0 = performance.now();
      planner.advance(1);
      planner.optimize(benchState);
      planner.action(action);
      const ms = performance.now() - t0;
      if (i >= args.warmup) stats.add(ms);
      bar.update(i + 1);
    }
    bar.stop();
    const s = stats.summary();
    results[w.name] = {
      description: w.description,
      samples: c.planner.samples,
      horizon: c.planner.horizon,
      iterations: args.iterations,
      median_ms: round(s.p50),
      p99_ms: round(s.p99),
      max_ms: round(s.max),
      rollout_steps_per_s: Math.round((c.planner.samples * c.planner.horizon * c.planner.iterations) / (s.p50 / 1000)),
      ...(backend !== undefined ? { backend, mlp_mflop: round(mlpFlop / 1e6, 1), mlp_gflop_per_s: round(mlpFlop / 1e9 / (s.p50 / 1000), 2) } : {}),
    };
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify(results)}\n`);
  } else {
    for (const [name, r] of Object.entries(results)) {
      process.stdout.write(
        `${name}  ${r.description}\n    median ${r.median_ms.toFixed(2)} ms  p99 ${r.p99_ms.toFixed(2)} ms  max ${r.max_ms.toFixed(2)} ms  ` +
          `(${(r.rollout_steps_per_s / 1e6).toFixed(2)} M rollout steps/s, ${r.iterations} iterations after ${args.warmup} warm-up)\n` +
          (r.backend !== undefined ? `    residual on tfjs ${r.backend}: ${r.mlp_mflop} MFLOP of MLP per iteration, ${r.mlp_gflop_per_s} GFLOP/s at the median\n` : ''),
      );
    }
  }
  return 0;
}
