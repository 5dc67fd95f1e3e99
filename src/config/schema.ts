import { z } from 'zod';
import { cpuSetSchema } from './cpu-set-schema.js';
import { estimatorSchema } from './estimator-schema.js';
import { learningSchema } from './learning-schema.js';
import { modelSchema, type ModelConfig } from './model-schema.js';
import { mqttPlantSchema } from './mqtt-plant-schema.js';
import { serialPlantSchema } from './serial-plant-schema.js';
import { virtualRobotSchema } from './virtual-robot-schema.js';
import { safetySchema } from './safety-schema.js';

export { safetySchema };

/**
 * The config file's shape. Every field has a default or fails with an error that names its
 * path; objects are strict so a misspelt key is an error, not a silently ignored setting.
 * Names of states and actions are checked against the model afterwards (resolve.ts).
 */

const named = <T extends z.ZodType>(value: T) => z.record(z.string(), value);
const range = z
  .tuple([z.number(), z.number()])
  .refine(([lo, hi]) => lo <= hi, { message: 'expected [low, high] with low <= high' });

/** Where the rollouts run; the same for every planner. */
const rolloutPlacement = {
  threads: z
    .union([z.literal('auto'), z.number().int().min(1).max(256)])
    .default('auto')
    .describe('threads sharing the K samples (this one plus workers); auto = one per core, or one per CPU in cpus'),
  cpus: cpuSetSchema.describe("CPUs the control thread and the rollout workers run on, e.g. [0, 1, 2]; 'any' = not pinned"),
  gpu: z.enum(['auto', 'off', 'on']).default('auto').describe('WebGPU rollouts for large K: auto = where an adapter is found, on = fail without one'),
  gpu_min_samples: z.number().int().min(1).default(16384).describe('evaluations of at least this many samples go to the GPU'),
};

const mppiSchema = z
  .object({
    kind: z.literal('mppi'),
    ...rolloutPlacement,
    samples: z.number().int().min(2).max(1 << 20).default(1024),
    horizon: z.number().int().min(1).max(1000).default(50),
    iterations: z.number().int().min(1).max(100).default(1),
    temperature: z.number().positive().default(1),
    noise_std: named(z.number().positive()).describe('per action name'),
    noise_smoothing: z.number().min(0).lt(1).default(0),
  })
  .strict();

const cemSchema = z
  .object({
    kind: z.literal('cem'),
    ...rolloutPlacement,
    samples: z.number().int().min(4).max(1 << 20).default(512),
    horizon: z.number().int().min(1).max(1000).default(50),
    iterations: z.number().int().min(1).max(100).default(3),
    elite_fraction: z.number().gt(0).max(1).default(0.1),
    keep_elites: z.number().min(0).max(1).default(0.3),
    population_decay: z.number().min(1).default(1),
    beta: z.number().min(0).max(4).default(2),
    init_std: named(z.number().positive()).describe('per action name'),
    momentum: z.number().min(0).lt(1).default(0.1),
    execute: z.enum(['best', 'mean']).default('best'),
  })
  .strict();

export const plannerSchema = z.discriminatedUnion('kind', [mppiSchema, cemSchema]);

const weights = { weight: z.number().min(0).default(1), terminal_weight: z.number().min(0).default(0) };

export const costTermSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('expression'), name: z.string().optional(), expr: z.string().min(1), ...weights }).strict(),
  z
    .object({
      kind: z.literal('quadratic'),
      name: z.string().optional(),
      target: named(z.number()).default({}),
      weights: named(z.number().min(0)),
      ...weights,
    })
    .strict(),
  z.object({ kind: z.literal('effort'), name: z.string().optional(), weights: named(z.number().min(0)), weight: weights.weight }).strict(),
  z.object({ kind: z.literal('state_bounds'), name: z.string().optional(), bounds: named(range), ...weights }).strict(),
]);

/**
 * A task param: a plain number is a constant, folded into the compiled costs. `live: true` makes
 * it a goal the daemon takes while it runs (a target, a setpoint): expressions then read its
 * current value at every tick, and a new value outside `bounds` is refused.
 */
export const taskParamSchema = z.union([
  z.number(),
  z
    .object({
      default: z.number().describe('the value until a goal sets another'),
      bounds: range.optional().describe('[low, high]: a goal outside them is refused'),
      live: z.boolean().default(false).describe('true: set at run time by goals; false: a constant'),
    })
    .strict()
    .refine((p) => p.bounds === undefined || (p.default >= p.bounds[0] && p.default <= p.bounds[1]), {
      message: 'default must lie within bounds',
    }),
]);

export const taskSchema = z
  .object({
    params: named(taskParamSchema)
      .default({})
      .describe('named values usable in expressions: a number (a constant), or {default, bounds, live} for one the daemon takes at run time'),
    points: named(z.union([z.object({ site: z.string().min(1) }).strict(), z.object({ body: z.string().min(1) }).strict()]))
      .default({})
      .describe('points of a rigid-body model that costs name as <point>_x, _y, _z and their _dot velocities'),
    cost: z.array(costTermSchema).min(1),
    success: z
      .object({
        expr: z.string().min(1),
        hold_seconds: z.number().min(0).default(0).describe('the condition must hold for the last this-many seconds of an episode'),
      })
      .strict(),
  })
  .strict();

const stateSource = z.union([
  z.object({ name: z.string(), joint: z.string(), field: z.enum(['qpos', 'qvel']) }).strict(),
  z.object({ name: z.string(), sensor: z.string() }).strict(),
]);

export const simPlantSchema = z
  .object({
    kind: z.literal('sim'),
    mjcf: z.string().min(1).describe('MJCF file, relative to the config file'),
    state: z.array(stateSource).min(1),
    actions: z.array(z.object({ name: z.string(), actuator: z.string() }).strict()).min(1),
  })
  .strict();

export const plantSchema = z.discriminatedUnion('kind', [simPlantSchema, mqttPlantSchema, serialPlantSchema]);

export const scenarioSchema = z
  .object({
    episode_seconds: z.number().positive().default(10),
    initial_state: named(z.union([z.number(), range])).default({}).describe('a value or a [low, high] uniform range per state'),
    goals: z
      .object({
        every_seconds: z.number().positive().describe('each goal holds this long; an episode runs floor(episode_seconds / every_seconds) goals in sequence'),
        params: named(z.union([z.number(), range])).describe('per live task param: a value or a [low, high] uniform range each goal is drawn from'),
      })
      .strict()
      .optional()
      .describe('goals the simulated episode sets in sequence, as a robot\'s software would send them; success is judged at the end of each'),
  })
  .strict();

export const configSchema = z
  .object({
    name: z.string().optional(),
    seed: z.number().int().min(0).default(0),
    model: modelSchema,
    control: z
      .object({
        period: z.number().positive().max(10).default(0.02),
        action_bounds: named(range),
      })
      .strict(),
    planner: plannerSchema,
    task: taskSchema,
    plant: plantSchema,
    virtual_robot: virtualRobotSchema.optional().describe('the MuJoCo robot `mpcd sim-robot` runs behind an mqtt or serial plant'),
    scenario: scenarioSchema.default(scenarioSchema.parse({})),
    estimator: estimatorSchema.default({}),
    status: z
      .object({
        rate: z.number().min(0).max(100).default(5).describe('Hz the daemon publishes what it is doing, where the plant carries it (MQTT <prefix>/status/control); 0 = off'),
        plan_states: z.number().int().min(1).max(1000).default(10).describe('predicted states of the plan in each status'),
      })
      .strict()
      .default({ rate: 5, plan_states: 10 }),
    safety: safetySchema.default(safetySchema.parse({})),
    learning: learningSchema.default(learningSchema.parse({})),
    log: z
      .object({
        enabled: z.boolean().default(true),
        dir: z.string().default('runs').describe('relative to the working directory'),
      })
      .strict()
      .default({ enabled: true, dir: 'runs' }),
  })
  .strict();

/** The config as zod parses it: a rigid-body model without its tree yet. */
export type ParsedConfig = z.infer<typeof configSchema>;
/** The config as loadConfig returns it: every model file read. */
export type Config = Omit<ParsedConfig, 'model'> & { model: ModelConfig };
export type PlannerConfig = z.infer<typeof plannerSchema>;
export type CostTermConfig = z.infer<typeof costTermSchema>;
export type TaskConfig = z.infer<typeof taskSchema>;
export type TaskParamConfig = z.infer<typeof taskParamSchema>;
export type SimPlantConfig = z.infer<typeof simPlantSchema>;
