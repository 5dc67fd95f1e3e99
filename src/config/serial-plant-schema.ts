import { z } from 'zod';
import { stampLimitsFields } from './stamp-limits-schema.js';
import { MAX_VALUES } from '../io/serial/messages.js';

/**
 * `plant.kind: serial`: the robot on a serial port (USB CDC, FTDI, a UART), speaking the
 * protocol in hardware/protocol.md. The integrator adds this to the plant union in schema.ts.
 */

// udev writes USB ids as 4 lowercase hex digits (ATTRS{idVendor}=="2341"); accept 0x and caps too.
const usbId = z
  .string()
  .regex(/^(0[xX])?[0-9a-fA-F]{4}$/, 'expected a 4-digit hex USB id as udev and lsusb show it, e.g. "2341"')
  .transform((s) => s.toLowerCase().replace(/^0x/, ''));

const portSchema = z.union([
  z.object({ path: z.string().min(1).describe('e.g. /dev/mpcd-robot (the udev symlink) or /dev/ttyACM0') }).strict(),
  z
    .object({
      vendor_id: usbId,
      product_id: usbId,
      serial_number: z.string().min(1).optional().describe('to pick one of several identical boards'),
    })
    .strict(),
]);

const channelSchema = z
  .object({
    id: z.number().int().min(0).max(255).describe('the channel byte of STATE messages'),
    name: z.string().min(1),
    states: z.array(z.string().min(1)).min(1).max(MAX_VALUES).describe('state names its values fill, in order'),
  })
  .strict();

export const serialPlantSchema = z
  .object({
    kind: z.literal('serial'),
    port: portSchema,
    baud: z.number().int().positive().default(115200),
    framing: z.enum(['cobs', 'ndjson']).default('cobs'),
    channels: z
      .array(channelSchema)
      .min(1)
      .refine((cs) => new Set(cs.map((c) => c.id)).size === cs.length, 'channel ids must be unique')
      .refine((cs) => new Set(cs.map((c) => c.name)).size === cs.length, 'channel names must be unique'),
    actions: z.array(z.string().min(1)).min(1).max(MAX_VALUES).describe('action names in the order COMMAND carries them'),
    ...stampLimitsFields,
    command_ttl: z.number().positive().max(60).optional().describe('seconds a command stays valid on the robot; default 2 control periods'),
    silence_timeout: z
      .number()
      .positive()
      .default(0.5)
      .describe('seconds without a valid frame from the robot after which the link counts as down and the port is reopened'),
    boot_timeout: z
      .number()
      .positive()
      .default(3)
      .describe('seconds to wait for the first frame after opening the port (many boards reset when it opens) before trying again'),
    reopen_backoff: z
      .object({
        min: z.number().positive().default(0.1).describe('seconds before the first reopen attempt'),
        max: z.number().positive().default(2).describe('longest wait between attempts; the wait doubles up to this'),
      })
      .strict()
      .refine((b) => b.min <= b.max, 'reopen_backoff.min must not exceed reopen_backoff.max')
      .default({ min: 0.1, max: 2 }),
  })
  .strict();

export type SerialPlantConfig = z.infer<typeof serialPlantSchema>;
/** What a config file may say (defaults not yet applied). */
export type SerialPlantConfigInput = z.input<typeof serialPlantSchema>;
