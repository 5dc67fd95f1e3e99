import type { Config } from '../config/schema.js';
import { MpcdError } from '../core/errors.js';
import type { DynamicsModel } from '../models/dynamics.js';
import type { TrainOptions } from '../models/residual/ensemble-trainer.js';
import type { ResidualSpec } from '../models/residual/residual-spec.js';

/**
 * The residual a config asks for: the analytic model's names and angles, the network shape
 * from `model.residual`. Undefined when the config has no `model.residual` (analytic only).
 * A stored version is usable by this config only when its spec is the same (sameSpec).
 */
export function residualSpecForConfig(config: Config, analytic: DynamicsModel): ResidualSpec | undefined {
  const r = config.model.residual;
  if (r === undefined) return undefined;
  return {
    stateNames: [...analytic.stateNames],
    actionNames: [...analytic.actionNames],
    angular: [...analytic.angular],
    hidden: [...r.hidden],
    members: r.members,
  };
}

/** As residualSpecForConfig, but a config without `model.residual` is an error that says what to add. */
export function requireResidualSpec(config: Config, analytic: DynamicsModel, source: string): ResidualSpec {
  const spec = residualSpecForConfig(config, analytic);
  if (spec === undefined)
    throw new MpcdError(
      'NO_RESIDUAL',
      `${source} has no model.residual, so there is no learned model to train or load; add one under model:, e.g.\n` +
        '  model:\n    residual: { members: 5, elites: 4, hidden: [64, 64] }',
    );
  return spec;
}

/** The ensemble trainer's options from `model.residual` and `learning`. */
export function trainOptionsFor(config: Config, seed: number): TrainOptions {
  const l = config.learning;
  return {
    elites: config.model.residual?.elites ?? 1,
    maxEpochs: l.max_epochs,
    batchSize: l.batch_size,
    learningRate: l.learning_rate,
    weightDecay: l.weight_decay,
    patience: l.patience,
    validationFraction: l.validation_fraction,
    seed,
    maxSeconds: l.max_seconds,
  };
}

/** How many of n transitions, the most recent ones, are held out to decide a swap. */
export function holdoutCount(config: Config, n: number): number {
  const l = config.learning;
  return Math.min(l.holdout_max, Math.max(1, Math.floor(n * l.holdout_fraction)));
}
