#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { MpcdError } from '../core/errors.js';
import { benchCommand } from './bench-command.js';
import { runCommand } from './run-command.js';
import { validateCommand } from './validate-command.js';

const USAGE = `mpcd: model-predictive-control daemon

usage:
  mpcd run <config> [--episodes N] [--seed S] [--realtime] [--json] [--log FILE | --no-log]
      run N episodes against the configured plant (sim); a summary at the end,
      with --json one JSON object as the last line of stdout
  mpcd validate <config>... [--json]
      check config files; every wrong field is named with what was expected
  mpcd bench [--json] [--iterations N] [--warmup N] [--only W0]
      planning time per iteration on fixed workloads
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          episodes: { type: 'string', default: '1' },
          seed: { type: 'string' },
          realtime: { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
          log: { type: 'string' },
          'no-log': { type: 'boolean', default: false },
        },
      });
      const config = positionals[0];
      if (config === undefined || positionals.length > 1) throw usageError('run takes exactly one config file');
      return runCommand({
        config,
        episodes: positiveInt(values.episodes, '--episodes'),
        seed: values.seed === undefined ? undefined : nonNegativeInt(values.seed, '--seed'),
        realtime: values.realtime,
        json: values.json,
        log: values.log,
        noLog: values['no-log'],
      });
    }
    case 'validate': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
      if (positionals.length === 0) throw usageError('validate takes one or more config files');
      return validateCommand(positionals, values.json);
    }
    case 'bench': {
      const { values } = parseArgs({
        args: rest,
        options: {
          json: { type: 'boolean', default: false },
          iterations: { type: 'string', default: '200' },
          warmup: { type: 'string', default: '30' },
          only: { type: 'string' },
        },
      });
      return benchCommand({
        json: values.json,
        iterations: positiveInt(values.iterations, '--iterations'),
        warmup: nonNegativeInt(values.warmup, '--warmup'),
        only: values.only,
      });
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw usageError(`unknown command "${command}"`);
  }
}

function usageError(message: string): MpcdError {
  return new MpcdError('USAGE', `${message}\n\n${USAGE}`);
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw usageError(`${flag} expects a positive integer, found "${text}"`);
  return n;
}

function nonNegativeInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw usageError(`${flag} expects a non-negative integer, found "${text}"`);
  return n;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof MpcdError) {
      process.stderr.write(`mpcd: ${err.message}\n`);
      process.exitCode = 1;
    } else if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`mpcd: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`mpcd: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 70;
    }
  },
);
