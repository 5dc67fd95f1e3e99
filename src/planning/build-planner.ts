import type { Config } from '../config/schema.js';
import type { Rng } from '../core/rng.js';
import type { TaskCost } from '../costs/task-cost.js';
import type { DynamicsModel } from '../models/dynamics.js';
import { Icem } from './icem.js';
import { Mppi } from './mppi.js';
import { boundsPerAction, perAction, type ActionBounds } from '../core/action-vectors.js';
import type { Planner } from './planner.js';
import { buildRolloutEngine } from './build-rollout-engine.js';
import { ParallelRolloutEngine, rolloutThreads } from './parallel-rollout.js';
import { helperCpus, pinHelperThreads, pinThisThread } from '../core/cpu-affinity.js';
import { createLogger } from '../telemetry/logger.js';
import type { RolloutEvaluator } from './rollout-evaluator.js';

// perAction moved to core (the safety layer needs it too); re-exported for the planner's users.
export { perAction };

/** The config's action bounds in the model's action order. */
export function actionBounds(config: Config, names: readonly string[]): ActionBounds {
  return boundsPerAction(config.control.action_bounds, names);
}

/**
 * The configured planner, with its rollout engine allocated at full size: on all the threads
 * `planner.threads` allows. `model` and `cost` must be the ones the config builds (workers rebuild
 * them from it).
 */
export function buildPlanner(config: Config, model: DynamicsModel, cost: TaskCost, rng: Rng): Planner {
  const p = config.planner;
  // The calling thread plans (it prices the first share), so it is one of the planner's threads;
  // node's helper threads, there before the rollout workers, leave the planner's CPUs.
  const log = createLogger();
  const helpers = helperCpus(p.cpus, config.learning.cpus);
  if (helpers !== undefined) pinHelperThreads(helpers, 'learning.cpus', log);
  pinThisThread(p.cpus, 'planner.cpus', log);
  const nu = model.actionNames.length;
  const threads = rolloutThreads(config);
  const engine: RolloutEvaluator =
    threads > 1 || p.gpu === 'on' || (p.gpu === 'auto' && p.samples >= p.gpu_min_samples)
      ? new ParallelRolloutEngine(config, model, cost, p.samples, threads, { mode: p.gpu, minSamples: p.gpu_min_samples })
      : buildRolloutEngine(config, model, cost, p.samples, new Float32Array(p.horizon * p.samples * nu)); // [H, K, nu]
  return plannerOn(config, engine, model.actionNames, rng);
}

/** The configured planner (MPPI or iCEM) with its options from config, pricing samples through `evaluator`. */
export function plannerOn(config: Config, evaluator: RolloutEvaluator, actionNames: readonly string[], rng: Rng): Planner {
  const p = config.planner;
  const bounds = actionBounds(config, actionNames);
  if (p.kind === 'mppi') {
    return new Mppi(
      evaluator,
      {
        samples: p.samples,
        horizon: p.horizon,
        iterations: p.iterations,
        temperature: p.temperature,
        noiseStd: perAction(p.noise_std, actionNames, 1),
        noiseSmoothing: p.noise_smoothing,
        bounds,
      },
      rng,
    );
  }
  return new Icem(
    evaluator,
    {
      samples: p.samples,
      horizon: p.horizon,
      iterations: p.iterations,
      eliteFraction: p.elite_fraction,
      keepElites: p.keep_elites,
      populationDecay: p.population_decay,
      beta: p.beta,
      initStd: perAction(p.init_std, actionNames, 1),
      momentum: p.momentum,
      execute: p.execute,
      bounds,
    },
    rng,
  );
}
