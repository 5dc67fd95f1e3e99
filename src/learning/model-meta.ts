import { z } from 'zod';
import type { ResidualSpec } from '../models/residual/residual-spec.js';

/** Tag and version of a stored model's `model.json`; bump the version on any incompatible change. */
export const MODEL_FORMAT = 'mpcd-residual-ensemble';
export const MODEL_FORMAT_VERSION = 1;

const count = z.number().int().min(0);
/** Scores are written as null when training produced a non-finite one (JSON has no NaN). */
const score = z.number().nullable();

/**
 * A stored version's `model.json`: everything needed to rebuild the snapshot from `weights.bin`
 * and to judge the version without loading it (data it saw, how it validated, how it trained).
 */
export const modelMetaSchema = z
  .object({
    format: z.literal(MODEL_FORMAT),
    format_version: z.literal(MODEL_FORMAT_VERSION),
    version: z.number().int().min(1),
    created: z.string().min(1).describe('ISO 8601 time of the save'),
    accepted: z.boolean().describe('false: a refit candidate that lost validation, kept for inspection'),
    spec: z
      .object({
        state_names: z.array(z.string()).min(1),
        action_names: z.array(z.string()).min(1),
        angular: z.array(z.boolean()).min(1),
        hidden: z.array(z.number().int().min(1)).min(1),
        members: z.number().int().min(1),
      })
      .strict(),
    elites: z.array(count).min(1),
    shapes: z.object({ layer_widths: z.array(z.number().int().min(1)).min(2).describe('[input, ...hidden, 2 * nx]') }).strict(),
    weights: z
      .object({
        file: z.string().regex(/^[\w.-]+$/, 'a plain file name inside the version folder'),
        bytes: count,
        sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits'),
      })
      .strict(),
    data: z
      .object({
        transitions: count.describe('clean transitions used: trained on plus held out'),
        t_from: z.number().nullable().describe('wall-clock seconds since the Unix epoch of the oldest'),
        t_to: z.number().nullable().describe('... and of the newest'),
        sources: z.array(z.string()).describe('transition logs read, or where the data came from'),
      })
      .strict(),
    validation: z
      .object({
        score: score.describe('predictionScore on the held-out transitions; lower is better, analytic alone ~1'),
        previous_score: score.describe('the model it had to beat, on the same transitions'),
        previous_version: count.describe('0 = the analytic model alone'),
        holdout: count.describe('held-out transitions (the most recent ones)'),
      })
      .strict(),
    value: z
      .object({
        file: z.string().regex(/^[\w.-]+$/, 'a plain file name inside the version folder'),
        bytes: count,
        sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits'),
        layer_widths: z.array(z.number().int().min(1)).min(2).describe('[features, ...hidden, 1]'),
        discount: z.number().gt(0).max(1),
        members: z.number().int().min(1).default(1).describe('networks in the ensemble, stacked in each layer'),
      })
      .strict()
      .optional()
      .describe('the terminal value fitted on imagined rollouts of this version, if any'),
    training: z
      .object({
        epochs: count,
        seconds: z.number().min(0),
        stopped_by: z.enum(['patience', 'max_epochs', 'max_seconds']),
        member_validation_mse: z.array(score),
        backend: z.string(),
      })
      .strict(),
  })
  .strict();

export type ModelMeta = z.infer<typeof modelMetaSchema>;

/** What a caller of `ModelStore.save` says about a version; the store fills in the rest. */
export type ModelSaveInfo = Pick<ModelMeta, 'accepted' | 'data' | 'validation' | 'training'>;

export function specToMeta(spec: ResidualSpec): ModelMeta['spec'] {
  return {
    state_names: [...spec.stateNames],
    action_names: [...spec.actionNames],
    angular: [...spec.angular],
    hidden: [...spec.hidden],
    members: spec.members,
  };
}

export function specFromMeta(m: ModelMeta['spec']): ResidualSpec {
  return { stateNames: m.state_names, actionNames: m.action_names, angular: m.angular, hidden: m.hidden, members: m.members };
}

/** One line naming a spec, for messages that compare two. */
export function describeSpec(s: ResidualSpec): string {
  return `states [${s.stateNames.join(', ')}], actions [${s.actionNames.join(', ')}], hidden [${s.hidden.join(', ')}], ${s.members} members`;
}

/** JSON has no NaN: a non-finite number is stored as null. */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
