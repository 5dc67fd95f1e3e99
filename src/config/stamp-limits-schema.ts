import { z } from 'zod';

/**
 * The fields every wire plant (`mqtt`, `serial`) shares for judging the robot's stamps
 * (src/io/stamp-policy.ts); their defaults depend on the control period, so they are resolved there.
 */
export const stampLimitsFields = {
  max_stamp_lead: z
    .number()
    .positive()
    .max(60)
    .optional()
    .describe("s a reading's stamp may be ahead of the robot's estimated clock before it is dropped as stamp_in_future; default 3 control periods"),
  clock_step_readings: z
    .number()
    .int()
    .min(2)
    .max(10000)
    .optional()
    .describe("consistent dropped readings of a channel in a row that declare a clock step (the channel re-bases); default about 50 ms of readings at the control rate, at least 2"),
} as const;
