import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { MpcdError } from '../core/errors.js';
import { loadKinematicTree } from '../models/rigid-body/load-kinematic-tree.js';
import { getMujoco } from '../models/rigid-body/mujoco-runtime.js';
import type { KinematicTree } from '../models/rigid-body/kinematic-tree.js';
import { withMotors } from '../models/rigid-body/with-motors.js';
import type { ModelConfig } from './model-schema.js';
import { configSchema, type Config, type ParsedConfig } from './schema.js';
import { formatIssues } from './format-issues.js';
import { checkNames } from './check-names.js';

export interface LoadedConfig {
  readonly config: Config;
  /** Absolute path of the config file; relative paths inside it are resolved from its folder. */
  readonly path: string;
  readonly dir: string;
  readonly text: string;
}

/** Reads, parses and validates a config file and the model file it names; throws one MpcdError listing every problem. */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new MpcdError('CONFIG_READ', `cannot read config ${path}: ${(err as Error).message}`);
  }
  const parsed = validateConfigText(text, abs);
  // Compiling a robot's file needs MuJoCo's WASM module, instantiated (once) asynchronously.
  if (parsed.model.kind === 'rigid_body') await getMujoco();
  return { config: completeConfig(parsed, dirname(abs), abs), path: abs, dir: dirname(abs), text };
}

/**
 * Parses YAML text and validates it; `source` names the file in messages, and files the config
 * names (the robot's MJCF or URDF) are relative to `dir` (default: the folder of `source`).
 * A config with a rigid-body model needs MuJoCo instantiated (await getMujoco()), as loadConfig does.
 */
export function parseConfigText(text: string, source: string, dir = dirname(resolve(source))): Config {
  return completeConfig(validateConfigText(text, source), dir, source);
}

/** YAML and the schema: every problem of the text itself. */
function validateConfigText(text: string, source: string): ParsedConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new MpcdError(
      'CONFIG_YAML',
      `${source} is not valid YAML; fix the syntax at the places below`,
      doc.errors.map((e) => e.message.split('\n')[0] ?? e.message),
    );
  }
  const result = configSchema.safeParse(doc.toJS(), { reportInput: true });
  if (!result.success) {
    const lines = formatIssues(result.error.issues);
    throw new MpcdError('CONFIG_INVALID', `${source}: ${lines.length} error(s) in the config`, lines);
  }
  return result.data;
}

/** The model's files read, then every name the config uses checked against the model. */
function completeConfig(parsed: ParsedConfig, dir: string, source: string): Config {
  const config: Config = { ...parsed, model: readModelFiles(parsed.model, dir, source) };
  const nameErrors = checkNames(config);
  if (nameErrors.length > 0) {
    throw new MpcdError('CONFIG_INVALID', `${source}: ${nameErrors.length} error(s) in the config`, nameErrors);
  }
  return config;
}

/** A rigid-body model gets its kinematic tree, compiled by MuJoCo from the file it names. */
function readModelFiles(model: ParsedConfig['model'], dir: string, source: string): ModelConfig {
  if (model.kind !== 'rigid_body') return model;
  const field = model.mjcf !== undefined ? 'mjcf' : 'urdf';
  const file = resolve(dir, (model.mjcf ?? model.urdf)!);
  let compiled: KinematicTree;
  try {
    compiled = loadKinematicTree(file);
  } catch (err) {
    if (err instanceof MpcdError) throw new MpcdError('CONFIG_MODEL_FILE', `${source}: model.${field}: ${err.message}`);
    throw err;
  }
  const tree = withMotors(compiled, model.motors, `${source}: model.motors`);
  if (tree.nu === 0) {
    const example = `motors: { ${tree.jointNames[0] ?? 'joint'}: 10 }`;
    throw new MpcdError('CONFIG_INVALID', `${source}: model.${field}: ${file} has no actuators on hinge or slide joints, so there is nothing to plan; name the driven joints under model.motors with their force or torque per unit action, e.g. ${example}`);
  }
  return { ...model, tree };
}
