import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DropReason, SerialMessage } from '../../../src/io/serial/messages.js';

/** hardware/test-vectors.json, shared with firmware ports. Tests run from dist/test/..., so walk up to the repo root. */
export interface TestVectors {
  crc16: { cases: { ascii?: string; hex?: string; crc: string }[] };
  cobs: { name: string; decoded: string; encoded: string }[];
  messages: { name: string; message: SerialMessage; cobs: string; ndjson: string }[];
  invalid: {
    cobs: { name: string; frame: string; reason: DropReason }[];
    ndjson: { name: string; line: string; reason: DropReason }[];
  };
}

export function loadVectors(): TestVectors {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const root = here.includes('/dist/') ? here.slice(0, here.lastIndexOf('/dist/')) : `${here}/../../..`;
  return JSON.parse(readFileSync(`${root}/hardware/test-vectors.json`, 'utf8')) as TestVectors;
}

export const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
/** A whole frame without its trailing delimiter. */
export const body = (frame: Uint8Array): Uint8Array => frame.subarray(0, frame.length - 1);
