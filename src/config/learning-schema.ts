import { z } from 'zod';
import { cpuSetSchema } from './cpu-set-schema.js';

/**
 * `model.residual`: the learned half of the hybrid model. Absent: the planner uses the analytic
 * model alone and nothing is learned.
 */
export const residualSchema = z
  .object({
    members: z.number().int().min(1).max(64).default(5),
    elites: z.number().int().min(1).max(64).default(4).describe('members the planner uses, best on validation'),
    hidden: z.array(z.number().int().min(1).max(4096)).min(1).max(8).default([64, 64]),
    backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto').describe('tfjs backend; auto = tensorflow, else wasm, else cpu'),
    kernel: z
      .enum(['auto', 'native', 'tfjs', 'typescript'])
      .default('auto')
      .describe("the planner's MLP kernel: auto = the native SIMD addon where it built, else tfjs, else plain TypeScript"),
    uncertainty_weight: z.number().min(0).default(0).describe("cost per unit of the members' disagreement (normalized variance); 0 = off"),
  })
  .strict()
  .refine((r) => r.elites <= r.members, { message: 'elites must be <= members', path: ['elites'] });

/**
 * `learning.value`: an MBPO-style terminal value fitted on imagined rollouts of the learned
 * model, branched from logged states, after each accepted refit.
 */
export const valueSchema = z
  .object({
    enabled: z.boolean().default(false).describe('fit a terminal value after each accepted refit and store it with the version'),
    weight: z.number().min(0).default(1).describe("the planner's terminal cost is weight * V(s_H); 0 = fit and store, do not plan with it"),
    starts: z.number().int().min(16).default(4096).describe('logged states branched from per round'),
    sequences: z.number().int().min(1).default(128).describe('imagined action sequences per start'),
    steps: z.number().int().min(1).default(20).describe('steps per imagined rollout: how much further than the horizon round 1 sees'),
    rounds: z.number().int().min(1).default(1).describe("rounds of fitted value iteration: round 1 backs up the task's terminal cost, each later one the previous round's value, `steps` further each (and compounding its errors)"),
    refinements: z.number().int().min(1).max(10).default(4).describe('cross-entropy refinements of the imagined action sequences per start state'),
    imagined_starts: z
      .number()
      .min(0)
      .lt(1)
      .default(0.5)
      .describe("fraction of each round's starts drawn from states the previous round imagined (MBPO's model buffer), so the value is fitted where the planner's samples end, not only where the robot has been"),
    discount: z.number().gt(0).max(1).default(0.99).describe('per control period'),
    smoothing: z.number().min(0).lt(1).default(0.7).describe('AR(1) smoothing of the imagined actions'),
    hidden: z.array(z.number().int().min(1).max(4096)).min(1).max(8).default([64, 64]),
    members: z.number().int().min(1).max(16).default(10).describe('value networks fitted from their own initial weights; V is their mean'),
    max_epochs: z.number().int().min(1).default(60),
  })
  .strict();

/** `learning`: refits of the residual while the robot runs, and the model store. */
export const learningSchema = z
  .object({
    enabled: z.boolean().default(true).describe('refit while running (needs model.residual)'),
    model_dir: z.string().default('models').describe('the model store, relative to the working directory; --model-dir overrides'),
    refit_every_transitions: z.number().int().min(1).default(600),
    refit_every_seconds: z.number().positive().default(120),
    min_transitions: z.number().int().min(20).default(300).describe('no refit before this many clean transitions'),
    holdout_fraction: z.number().gt(0).lt(1).default(0.15).describe('most recent transitions held out to decide a swap'),
    holdout_max: z.number().int().min(10).default(1000),
    buffer_capacity: z.number().int().min(100).default(200_000),
    max_epochs: z.number().int().min(1).default(150),
    batch_size: z.number().int().min(8).default(256),
    learning_rate: z.number().positive().default(2e-3),
    weight_decay: z.number().min(0).default(1e-5),
    patience: z.number().int().min(1).default(6),
    validation_fraction: z.number().gt(0).lt(1).default(0.1),
    max_seconds: z.number().positive().default(90).describe('wall-clock cap of one refit'),
    lockstep_refits: z
      .enum(['pause', 'beside'])
      .default('pause')
      .describe(
        "lock-step simulation only: 'pause' stops the virtual clock while a refit trains, so a learning curve is the same on any machine; 'beside' lets the simulation run on while it trains, as fast as the machine allows (the curve then depends on the machine). On a real clock refits always run beside the loop",
      ),
    cpus: cpuSetSchema.describe("CPUs the refit thread runs on, e.g. [3]; give it cores the planner's planner.cpus leave free, so refits do not raise the planner's p99"),
    value: valueSchema.default(valueSchema.parse({})),
  })
  .strict();

export type ResidualConfig = z.infer<typeof residualSchema>;
export type LearningConfig = z.infer<typeof learningSchema>;
export type ValueConfig = z.infer<typeof valueSchema>;
