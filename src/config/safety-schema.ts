import { z } from 'zod';

/**
 * The `safety:` section of the config: what is sent when it is not safe to send the plan, when
 * it is not safe (the watchdog's limits), and how a fault is cleared. Times in seconds; the
 * defaults that depend on the control period or the plant are resolved by `safetyConfigFrom`
 * (src/safety/safety-config.ts), so they are left optional here.
 */

const named = <T extends z.ZodType>(value: T) => z.record(z.string(), value);

/** How a fault of one kind is cleared: by itself after enough good ticks, or only by an operator's arm. */
export const clearRuleSchema = z.enum(['auto', 'manual']);

export const faultClearSchema = z
  .object({
    good_ticks: z
      .number()
      .int()
      .min(1)
      .max(100000)
      .default(10)
      .describe('consecutive ticks without the fault\'s cause before an auto fault clears'),
    sensor_stale: clearRuleSchema.default('auto'),
    deadline_missed: clearRuleSchema.default('auto'),
    link_down: clearRuleSchema.default('auto').describe('auto: counted from the link_up'),
    planner_error: clearRuleSchema.default('auto'),
  })
  .strict()
  .describe('an e-stop is always cleared manually (arm), whatever is set here');

export const safetySchema = z
  .object({
    safe_action: named(z.number())
      .default({})
      .describe('per action name; missing names are 0. Sent in safe_mode brake, and in place of a non-finite action'),
    rate_limit: named(z.number().positive()).default({}).describe('max change per second, per action name'),
    safe_mode: z
      .enum(['brake', 'zero', 'hold'])
      .default('brake')
      .describe('what is sent while not running: brake = the safe_action values, zero = all 0, hold = the last action sent'),
    max_age: named(z.number().positive())
      .default({})
      .describe('seconds, per sensor channel: a channel with no reading for longer is stale (daemon clock, at arrival)'),
    max_age_default: z.number().positive().optional().describe('seconds, for channels not in max_age; default 3 control periods'),
    deadline: z.number().positive().optional().describe('seconds from a tick to its action going out; default 1 control period'),
    fault_clear: faultClearSchema.default(faultClearSchema.parse({})),
    arm_on_start: z.boolean().optional().describe('default true for plant.kind sim, false for a real robot'),
  })
  .strict();

export type SafetySection = z.infer<typeof safetySchema>;
export type FaultClearSection = z.infer<typeof faultClearSchema>;
