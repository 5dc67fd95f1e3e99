import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { buildTaskCost } from '../costs/build-task-cost.js';
import { buildAnalyticModel } from '../models/build-model.js';
import { HybridModel } from '../models/hybrid-model.js';
import type { EnsembleSnapshot } from '../models/residual/ensemble-snapshot.js';
import { ResidualPredictor } from '../models/residual/residual-predictor.js';
import type { ValueSnapshot } from '../models/value/value-snapshot.js';
import { actionBounds, perAction } from '../planning/build-planner.js';
import { fitImaginedValue } from './imagined-value.js';

/**
 * The terminal value of a residual version, with `learning.value`'s settings: imagined rollouts
 * of analytic + this residual, branched from the logged states in rows [n, nx + nu + nx].
 */
export function fitTerminalValue(c: Config, snapshot: EnsembleSnapshot, rows: Float32Array, n: number, seed: number, log?: Logger): ValueSnapshot {
  const v = c.learning.value;
  const t0 = performance.now();
  const model = new HybridModel(buildAnalyticModel(c, 4096));
  model.setResidual(new ResidualPredictor(snapshot, 4096), 1);
  const cost = buildTaskCost(c, model);
  const names = model.actionNames;
  const bounds = actionBounds(c, names);
  const noise = c.planner.kind === 'mppi' ? c.planner.noise_std : c.planner.init_std;
  const { snapshot: value, rounds } = fitImaginedValue(
    model,
    cost,
    rows,
    n,
    c.control.period,
    {
      starts: v.starts,
      sequences: v.sequences,
      steps: v.steps,
      rounds: v.rounds,
      refinements: v.refinements,
      imaginedStarts: v.imagined_starts,
      discount: v.discount,
      noiseStd: perAction(noise, names, 1),
      smoothing: v.smoothing,
      low: bounds.low,
      high: bounds.high,
      fit: { hidden: v.hidden, members: v.members, maxEpochs: v.max_epochs, batchSize: 256, learningRate: 2e-3, patience: 8, validationFraction: 0.1, seed },
    },
    seed,
  );
  model.setResidual(undefined, 0);
  log?.info({ rounds, seconds: (performance.now() - t0) / 1000 }, 'terminal value fitted on imagined rollouts');
  return value;
}
