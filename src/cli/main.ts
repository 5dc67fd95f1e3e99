#!/usr/bin/env -S node --v8-pool-size=1
// One V8 helper thread instead of one per core: on a 2-core robot PC the default pool's garbage
// collection threads, shared by the control thread and the refit worker, are what let a running
// refit raise the control loop's p99 latency (README, "Learning").
import { parseArgs } from 'node:util';
import { MpcdError } from '../core/errors.js';
import { MODEL_USAGE, SIM_ROBOT_USAGE, TRAIN_USAGE } from './usage.js';

// Each command's code (tfjs, MuJoCo, transports) is loaded only when that command runs, so
// `mpcd help` and small commands start fast.

const USAGE = `mpcd: model-predictive-control daemon

usage:
  mpcd run <config> [--episodes N] [--seed S] [--realtime] [--json] [--log FILE | --no-log] [--model-dir DIR] [--mqtt URL | --serial PATH]
      run N episodes against the configured plant (sim, or a robot over mqtt/serial in real time,
      which --mqtt / --serial point at a broker or port); a summary at the end,
      with --json one JSON object as the last line of stdout; with model.residual in the
      config it starts from the newest good model in the store and refits as it runs
  mpcd goal <config> name=value... [--mqtt URL] [--ttl S] [--replan] [--sender NAME] [--wait S] [--json]
      send a goal (new values of the task's live params) to a running daemon over the config's
      MQTT broker and print its answer: accepted, or rejected and why
  mpcd validate <config>... [--json]
      check config files; every wrong field is named with what was expected
${SIM_ROBOT_USAGE}  mpcd bench [--json] [--iterations N] [--warmup N] [--only W0,W1,...] [--no-baseline]
      planning time per iteration on fixed workloads (W0..W3), and W1 written op by op in tfjs
      (W1-op-by-op, fewer iterations) with the ratio of their medians; --no-baseline skips it
${TRAIN_USAGE}${MODEL_USAGE}  mpcd plot <summary.json>... --out FILE.png [--label NAME]... [--title T] [--metric cost|success] [--font FILE.ttf]
      the learning curve (cost or success rate per episode) of runs saved with \`mpcd run ... --json > FILE\`
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
          'model-dir': { type: 'string' },
          mqtt: { type: 'string' },
          serial: { type: 'string' },
        },
      });
      const config = positionals[0];
      if (config === undefined || positionals.length > 1) throw usageError('run takes exactly one config file');
      const { runCommand } = await import('./run-command.js');
      return runCommand({
        config,
        episodes: positiveInt(values.episodes, '--episodes'),
        seed: values.seed === undefined ? undefined : nonNegativeInt(values.seed, '--seed'),
        realtime: values.realtime,
        json: values.json,
        log: values.log,
        noLog: values['no-log'],
        modelDir: values['model-dir'],
        mqttUrl: values.mqtt,
        serialPath: values.serial,
      });
    }
    case 'sim-robot': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          mqtt: { type: 'string' },
          serial: { type: 'string' },
          fault: { type: 'string', multiple: true, default: [] },
          record: { type: 'string' },
          seed: { type: 'string' },
          duration: { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      });
      const config = positionals[0];
      if (config === undefined || positionals.length > 1) throw usageError('sim-robot takes exactly one config file');
      const duration = values.duration === undefined ? undefined : Number(values.duration);
      if (duration !== undefined && !(duration > 0)) throw usageError(`--duration expects a positive number of seconds, found "${values.duration}"`);
      const { simRobotCommand } = await import('./sim-robot-command.js');
      return simRobotCommand({
        config,
        mqttUrl: values.mqtt,
        serialPath: values.serial,
        faults: values.fault,
        record: values.record,
        seed: values.seed === undefined ? undefined : nonNegativeInt(values.seed, '--seed'),
        duration,
        json: values.json,
      });
    }
    case 'goal': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          mqtt: { type: 'string' },
          ttl: { type: 'string', default: '2' },
          replan: { type: 'boolean', default: false },
          sender: { type: 'string', default: 'mpcd-goal' },
          wait: { type: 'string', default: '3' },
          json: { type: 'boolean', default: false },
        },
      });
      const [config, ...assignments] = positionals;
      if (config === undefined) throw usageError('goal takes a config file and name=value pairs');
      const ttl = Number(values.ttl);
      const wait = Number(values.wait);
      if (!(ttl > 0)) throw usageError(`--ttl expects a positive number of seconds, found "${values.ttl}"`);
      if (!(wait >= 0)) throw usageError(`--wait expects a number of seconds, found "${values.wait}"`);
      const { goalCommand } = await import('./goal-command.js');
      return goalCommand({ config, assignments, mqttUrl: values.mqtt, ttl, replan: values.replan, sender: values.sender, wait, json: values.json });
    }
    case 'train':
      return (await import('./train-command.js')).trainMain(rest);
    case 'model':
      return (await import('./model-command.js')).modelMain(rest);
    case 'validate': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
      if (positionals.length === 0) throw usageError('validate takes one or more config files');
      return (await import('./validate-command.js')).validateCommand(positionals, values.json);
    }
    case 'plot': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          out: { type: 'string' },
          label: { type: 'string', multiple: true, default: [] },
          title: { type: 'string' },
          metric: { type: 'string', default: 'cost' },
          font: { type: 'string' },
        },
      });
      if (values.out === undefined) throw usageError('plot needs --out FILE.png');
      if (values.metric !== 'cost' && values.metric !== 'success') throw usageError(`--metric expects cost or success, found "${values.metric}"`);
      const { plotCommand } = await import('./plot-command.js');
      return plotCommand({ summaries: positionals, out: values.out, labels: values.label, title: values.title, metric: values.metric, font: values.font });
    }
    case 'bench': {
      const { values } = parseArgs({
        args: rest,
        options: {
          json: { type: 'boolean', default: false },
          iterations: { type: 'string', default: '200' },
          warmup: { type: 'string', default: '30' },
          only: { type: 'string' },
          'no-baseline': { type: 'boolean', default: false },
        },
      });
      const { benchCommand } = await import('./bench-command.js');
      return benchCommand({
        json: values.json,
        iterations: positiveInt(values.iterations, '--iterations'),
        warmup: nonNegativeInt(values.warmup, '--warmup'),
        only: values.only?.split(',').map((n) => n.trim()).filter((n) => n !== ''),
        baseline: !values['no-baseline'],
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
