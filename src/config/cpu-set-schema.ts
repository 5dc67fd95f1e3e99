import { z } from 'zod';

/** CPU numbers (from 0) a group of threads is pinned to, or 'any': wherever the OS puts them. */
export const cpuSetSchema = z.union([z.literal('any'), z.array(z.number().int().min(0).max(1023)).min(1)]).default('any');
