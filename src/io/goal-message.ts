import { z } from 'zod';
import type { StampedEnvelope } from './command-envelope.js';

/**
 * A goal from the robot's other software (a task planner, a teleop station, `mpcd goal`): new
 * values for some of the task's live params, set together or not at all. It travels in the same
 * envelope as commands (seq, stamp, ttl: hardware/mqtt-contract.md "Goals"), judged per sender
 * by the same gate, so a replayed, reordered or queued goal cannot move the robot.
 */
export const goalMessageSchema = z
  .object({
    sender: z.string().min(1).max(64).default('default').describe("the sender's name: seq and stamps are judged per sender"),
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    stamp: z.number().describe("seconds, the sender's monotonic clock"),
    ttl: z.number().positive().max(3600).describe('seconds after stamp the goal may still be taken'),
    params: z
      .record(z.string().min(1).max(64), z.number())
      .refine((p) => Object.keys(p).length > 0, { message: 'name at least one param' })
      .refine((p) => Object.keys(p).length <= 64, { message: 'at most 64 params in one goal' }),
    replan: z.boolean().default(false).describe('true: drop the warm start, the old plan is no use for the new goal'),
  })
  .strict() satisfies z.ZodType<StampedEnvelope>;
export type GoalMessage = z.infer<typeof goalMessageSchema>;

/** A goal as a plant hands it over: decoded and shaped, or why not. `receivedAt`: the daemon's monotonic clock, s. */
export type GoalArrival =
  | { readonly ok: true; readonly goal: GoalMessage; readonly receivedAt: number }
  | { readonly ok: false; readonly reason: 'decode' | 'schema' | 'non_finite'; readonly error: string; readonly receivedAt: number };

/** Why a goal was not taken. */
export type GoalRejection = 'malformed' | 'non_finite' | 'duplicate_or_old' | 'stale' | 'refused';

/** What the daemon answers every goal with (MQTT: `<prefix>/status/goal`, retained). */
export interface GoalReport {
  readonly sender: string | null;
  readonly seq: number | null;
  readonly verdict: 'accepted' | GoalRejection;
  /** Why, for a rejection: which param and what was wrong. */
  readonly reason?: string;
  /** The live params the planner uses now (the last valid goal's). */
  readonly params: Readonly<Record<string, number>>;
  readonly accepted: number;
  readonly rejected: Readonly<Record<GoalRejection, number>>;
}
