import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { MpcdError } from '../core/errors.js';
import { snapshotArrays, type EnsembleLayer, type EnsembleSnapshot } from '../models/residual/ensemble-snapshot.js';
import { layerWidths, sameSpec, type ResidualSpec } from '../models/residual/residual-spec.js';
import { stateFeatureDim } from '../models/state-features.js';
import { valueArrays, valueLayerWidths, type ValueSnapshot } from '../models/value/value-snapshot.js';
import {
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  describeSpec,
  finiteOrNull,
  modelMetaSchema,
  specFromMeta,
  specToMeta,
  type ModelMeta,
  type ModelSaveInfo,
} from './model-meta.js';

export type { ModelMeta, ModelSaveInfo } from './model-meta.js';

const META_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';
const VALUE_FILE = 'value.bin';
const PIN_FILE = 'pinned.json';
const VERSION_DIR = /^v(\d{6,})$/;
const TEMP_PREFIX = '.tmp-';
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** What `loadPreferred` reports to: a pino Logger fits. */
export interface ModelStoreLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface StoredVersion {
  readonly version: number;
  /** Present when model.json parsed. */
  readonly meta?: ModelMeta;
  /** Why the version cannot be loaded, when it cannot. */
  readonly problem?: string;
}

export interface LoadedModel {
  readonly snapshot: EnsembleSnapshot;
  readonly meta: ModelMeta;
  /** The terminal value stored with this version, if one was fitted. */
  readonly value?: ValueSnapshot | undefined;
  readonly version: number;
}

/**
 * A load failure that names the file and the reason separately, so the daemon can log both as
 * fields; the message says the same to a human, plus what to do.
 */
export class ModelFileError extends MpcdError {
  constructor(
    code: 'MODEL_CORRUPT' | 'MODEL_MISSING' | 'MODEL_MISMATCH',
    readonly file: string,
    readonly reason: string,
  ) {
    super(code, `${file}: ${reason}; this version cannot be used: pick another with \`mpcd model use <version>\` or train a new one with \`mpcd train\``);
  }
}

/** The store's folder: `--model-dir`, else the config's `learning.model_dir`, else `models`; relative to the working directory. */
export function resolveModelDir(config: Pick<Config, 'learning'> | undefined, override?: string): string {
  return resolve(override ?? config?.learning.model_dir ?? 'models');
}

export function versionName(version: number): string {
  return `v${String(version).padStart(6, '0')}`;
}

/**
 * Versions of the residual ensemble on disk, one folder each: `v000001/model.json` (metadata,
 * validated with zod) and `v000001/weights.bin` (every array of `snapshotArrays` in order,
 * float32 little-endian, sha256 in model.json). A version is written into a temp folder, fsynced
 * and renamed into place, so a crash never leaves a half version under a final name; leftover
 * temp folders are ignored. `pinned.json` pins a version (rollback). Synchronous on purpose: it
 * runs at start-up and in the refit worker, never on the control path.
 */
export class ModelStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** Writes a new version (highest existing + 1) and returns it. Throws MODEL_WRITE when the disk refuses. */
  save(snapshot: EnsembleSnapshot, info: ModelSaveInfo, value?: ValueSnapshot): { version: number; dir: string } {
    const weights = encodeWeights(snapshot);
    const sha256 = createHash('sha256').update(weights).digest('hex');
    const valueBytes = value === undefined ? undefined : encodeFloat32(valueArrays(value));
    try {
      mkdirSync(this.dir, { recursive: true });
      const temp = join(this.dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
      mkdirSync(temp);
      try {
        writeFileSynced(join(temp, WEIGHTS_FILE), weights);
        if (valueBytes !== undefined) writeFileSynced(join(temp, VALUE_FILE), valueBytes);
        // Another writer may take a number between our scan and our rename: rename refuses an
        // existing non-empty folder, so take the next number and try again.
        for (let attempt = 0; ; attempt++) {
          const version = this.highestVersion() + 1;
          const meta: ModelMeta = {
            format: MODEL_FORMAT,
            format_version: MODEL_FORMAT_VERSION,
            version,
            created: new Date().toISOString(),
            accepted: info.accepted,
            spec: specToMeta(snapshot.spec),
            elites: [...snapshot.elites],
            shapes: { layer_widths: layerWidths(snapshot.spec) },
            weights: { file: WEIGHTS_FILE, bytes: weights.length, sha256 },
            data: info.data,
            ...(value !== undefined && valueBytes !== undefined
              ? {
                  value: {
                    file: VALUE_FILE,
                    bytes: valueBytes.length,
                    sha256: createHash('sha256').update(valueBytes).digest('hex'),
                    layer_widths: valueLayerWidths(value),
                    discount: value.discount,
                    members: value.members,
                  },
                }
              : {}),
            validation: {
              ...info.validation,
              score: finiteOrNull(info.validation.score ?? NaN),
              previous_score: finiteOrNull(info.validation.previous_score ?? NaN),
            },
            training: { ...info.training, member_validation_mse: info.training.member_validation_mse.map((x) => finiteOrNull(x ?? NaN)) },
          };
          // Never write a version that load would refuse (e.g. a negative count from a caller).
          const checked = modelMetaSchema.safeParse(meta);
          if (!checked.success) throw new RangeError(`invalid model metadata: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
          writeFileSynced(join(temp, META_FILE), Buffer.from(`${JSON.stringify(meta, null, 2)}\n`));
          fsyncPath(temp);
          const final = join(this.dir, versionName(version));
          try {
            renameSync(temp, final);
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if ((code === 'ENOTEMPTY' || code === 'EEXIST') && attempt < 10) continue;
            throw err;
          }
          fsyncPath(this.dir);
          return { version, dir: final };
        }
      } catch (err) {
        rmSync(temp, { recursive: true, force: true });
        throw err;
      }
    } catch (err) {
      if (err instanceof MpcdError) throw err;
      throw new MpcdError('MODEL_WRITE', `cannot write a model version into ${this.dir}: ${(err as Error).message}; check that the folder is writable and the disk has room`);
    }
  }

  /** Every version folder, oldest first, each with its metadata or the problem that keeps it from loading. */
  list(expectedSpec?: ResidualSpec): StoredVersion[] {
    return this.versions().map((version) => {
      let meta: ModelMeta | undefined;
      try {
        meta = this.readMeta(version);
        this.load(version, expectedSpec);
        return { version, meta };
      } catch (err) {
        const problem = err instanceof ModelFileError ? `${err.file}: ${err.reason}` : (err as Error).message;
        return meta === undefined ? { version, problem } : { version, meta, problem };
      }
    });
  }

  /**
   * Reads and checks one version: throws ModelFileError MODEL_MISSING (no such version or file),
   * MODEL_CORRUPT (bad JSON, missing field, truncated or corrupt weights) or MODEL_MISMATCH (the
   * version was trained for another robot or network than `expectedSpec`).
   */
  load(version: number, expectedSpec?: ResidualSpec): { snapshot: EnsembleSnapshot; meta: ModelMeta; value?: ValueSnapshot | undefined } {
    const meta = this.readMeta(version);
    const metaPath = join(this.dir, versionName(version), META_FILE);
    const spec = specFromMeta(meta.spec);
    const widths = layerWidths(spec);
    if (meta.version !== version) throw new ModelFileError('MODEL_CORRUPT', metaPath, `it says version ${meta.version} but lies in ${versionName(version)}`);
    if (spec.angular.length !== spec.stateNames.length) throw new ModelFileError('MODEL_CORRUPT', metaPath, `spec.angular has ${spec.angular.length} entries for ${spec.stateNames.length} states`);
    if (widths.join() !== meta.shapes.layer_widths.join())
      throw new ModelFileError('MODEL_CORRUPT', metaPath, `shapes.layer_widths [${meta.shapes.layer_widths.join(', ')}] do not match the spec's [${widths.join(', ')}]`);
    if (meta.elites.some((m) => m >= spec.members)) throw new ModelFileError('MODEL_CORRUPT', metaPath, `elites [${meta.elites.join(', ')}] name members beyond the ${spec.members} stored`);
    if (expectedSpec !== undefined && !sameSpec(spec, expectedSpec))
      throw new ModelFileError('MODEL_MISMATCH', metaPath, `it was trained for ${describeSpec(spec)}, but the config's model is ${describeSpec(expectedSpec)}`);

    const weightsPath = join(this.dir, versionName(version), meta.weights.file);
    const bytes = readOrThrow(weightsPath);
    const expectedBytes = 4 * arrayLengths(spec).reduce((a, b) => a + b, 0);
    if (meta.weights.bytes !== expectedBytes)
      throw new ModelFileError('MODEL_CORRUPT', metaPath, `weights.bytes is ${meta.weights.bytes}, but the spec's arrays need ${expectedBytes}`);
    if (bytes.length < expectedBytes) throw new ModelFileError('MODEL_CORRUPT', weightsPath, `truncated: ${bytes.length} of ${expectedBytes} bytes`);
    if (bytes.length > expectedBytes) throw new ModelFileError('MODEL_CORRUPT', weightsPath, `${bytes.length} bytes where ${expectedBytes} were written`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== meta.weights.sha256) throw new ModelFileError('MODEL_CORRUPT', weightsPath, `corrupt: its sha256 ${sha256.slice(0, 12)}… differs from the ${meta.weights.sha256.slice(0, 12)}… written`);
    const snapshot = decodeWeights(spec, meta.elites, bytes);
    if (!snapshotArrays(snapshot).every((a) => a.every(Number.isFinite))) throw new ModelFileError('MODEL_CORRUPT', weightsPath, 'holds non-finite weights (training diverged)');
    return { snapshot, meta, value: this.loadValue(version, meta, spec) };
  }

  /** The version's terminal value, checked like the weights; a damaged one fails the whole version. */
  private loadValue(version: number, meta: ModelMeta, spec: ResidualSpec): ValueSnapshot | undefined {
    const v = meta.value;
    if (v === undefined) return undefined;
    const path = join(this.dir, versionName(version), v.file);
    const bytes = readOrThrow(path);
    const widths = v.layer_widths;
    const metaPath = join(this.dir, versionName(version), META_FILE);
    if (widths[0] !== stateFeatureDim(spec.angular) || widths.at(-1) !== 1)
      throw new ModelFileError('MODEL_CORRUPT', metaPath, `value.layer_widths [${widths.join(', ')}] do not fit the model's ${stateFeatureDim(spec.angular)} state features and one output`);
    const M = v.members;
    const lengths = [widths[0]!, widths[0]!, 1, 1, ...widths.slice(1).flatMap((out, l) => [M * widths[l]! * out, M * out])];
    const expected = 4 * lengths.reduce((a, b) => a + b, 0);
    if (bytes.length !== expected || v.bytes !== expected) throw new ModelFileError('MODEL_CORRUPT', path, `${bytes.length} bytes where ${expected} were written (truncated or wrong shape)`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== v.sha256) throw new ModelFileError('MODEL_CORRUPT', path, `corrupt: its sha256 ${sha256.slice(0, 12)}… differs from the ${v.sha256.slice(0, 12)}… written`);
    const arrays = decodeFloat32(bytes, lengths);
    if (!arrays.every((a) => a.every(Number.isFinite))) throw new ModelFileError('MODEL_CORRUPT', path, 'holds non-finite weights');
    const [mean, std, tMean, tStd, ...layerArrays] = arrays as [Float32Array, Float32Array, Float32Array, Float32Array, ...Float32Array[]];
    const layers: EnsembleLayer[] = [];
    for (let i = 0; i < layerArrays.length; i += 2) layers.push({ weights: layerArrays[i]!, bias: layerArrays[i + 1]! });
    return {
      stateNames: spec.stateNames,
      angular: spec.angular,
      hidden: widths.slice(1, -1),
      discount: v.discount,
      members: M,
      input: { mean, std },
      target: { mean: tMean, std: tStd },
      layers,
    };
  }

  /**
   * The model to start with: the pinned version if one is pinned, else the newest accepted one.
   * A version that fails to load is logged with its file and the reason, and the next older
   * accepted version is tried. Undefined: none is usable, run on the analytic model alone.
   * Never throws on what is on disk.
   */
  loadPreferred(expectedSpec: ResidualSpec | undefined, log: ModelStoreLog): LoadedModel | undefined {
    let versions: number[];
    try {
      versions = this.versions().reverse();
    } catch (err) {
      log.warn({ dir: this.dir, reason: (err as Error).message }, 'cannot read the model store; using the analytic model');
      return undefined;
    }
    const pin = this.readPin(log);
    const failed = (version: number, err: unknown): undefined => {
      const fields = err instanceof ModelFileError ? { file: err.file, reason: err.reason, code: err.code } : { reason: (err as Error).message };
      log.warn({ version, ...fields }, `model version ${version} cannot be loaded; trying an older one`);
      return undefined;
    };
    const tryLoad = (version: number): LoadedModel | undefined => {
      try {
        return { ...this.load(version, expectedSpec), version };
      } catch (err) {
        return failed(version, err);
      }
    };
    if (pin !== undefined) {
      const pinned = tryLoad(pin);
      if (pinned !== undefined) return pinned;
    }
    for (const version of versions) {
      if (pin !== undefined && version >= pin) continue; // rollback: never jump past the pinned version
      let accepted: boolean;
      try {
        accepted = this.readMeta(version).accepted;
      } catch (err) {
        failed(version, err);
        continue;
      }
      if (!accepted) continue;
      const found = tryLoad(version);
      if (found !== undefined) return found;
    }
    log.info({ dir: this.dir }, 'no usable stored model; using the analytic model');
    return undefined;
  }

  /** Pins a version after checking that it loads: `loadPreferred` then starts from it (rollback). */
  use(version: number, expectedSpec?: ResidualSpec): ModelMeta {
    const { meta } = this.load(version, expectedSpec);
    try {
      const temp = join(this.dir, `${TEMP_PREFIX}${PIN_FILE}-${process.pid}`);
      writeFileSynced(temp, Buffer.from(`${JSON.stringify({ version, pinned: new Date().toISOString() })}\n`));
      renameSync(temp, join(this.dir, PIN_FILE));
      fsyncPath(this.dir);
    } catch (err) {
      throw new MpcdError('MODEL_WRITE', `cannot pin version ${version} in ${this.dir}: ${(err as Error).message}`);
    }
    return meta;
  }

  /** Removes the pin: the newest accepted version is preferred again. Returns the version that was pinned. */
  unpin(): number | undefined {
    const was = this.pinnedVersion();
    rmSync(join(this.dir, PIN_FILE), { force: true });
    return was;
  }

  /** The pinned version, or undefined when none is (or the pin file is unreadable). */
  pinnedVersion(): number | undefined {
    return this.readPin();
  }

  /** Version numbers present, ascending; [] when the folder does not exist. */
  versions(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new MpcdError('MODEL_STORE', `cannot read the model store ${this.dir}: ${(err as Error).message}; point --model-dir or learning.model_dir at a folder`);
    }
    return names.flatMap((n) => {
      const m = VERSION_DIR.exec(n);
      return m ? [Number(m[1])] : [];
    }).sort((a, b) => a - b);
  }

  private highestVersion(): number {
    return this.versions().at(-1) ?? 0;
  }

  private readMeta(version: number): ModelMeta {
    const path = join(this.dir, versionName(version), META_FILE);
    if (!existsSync(join(this.dir, versionName(version))))
      throw new ModelFileError('MODEL_MISSING', join(this.dir, versionName(version)), 'no such version (`mpcd model list` shows the versions)');
    const text = readOrThrow(path).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new ModelFileError('MODEL_CORRUPT', path, `not valid JSON (${(err as Error).message})`);
    }
    const parsed = modelMetaSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
      throw new ModelFileError('MODEL_CORRUPT', path, `missing or wrong field(s): ${issues.slice(0, 5).join('; ')}`);
    }
    return parsed.data;
  }

  private readPin(log?: ModelStoreLog): number | undefined {
    const path = join(this.dir, PIN_FILE);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const v = (JSON.parse(text) as { version?: unknown }).version;
      if (typeof v === 'number' && Number.isInteger(v) && v >= 1) return v;
    } catch {
      // fall through: reported below
    }
    log?.warn({ file: path, reason: 'not a {"version": N} object' }, 'ignoring an unreadable pin; `mpcd model use <version>` rewrites it');
    return undefined;
  }
}

/** Element counts of `snapshotArrays` for a spec, in the same order. */
function arrayLengths(spec: ResidualSpec): number[] {
  const w = layerWidths(spec);
  const d = w[0]!;
  const nx = spec.stateNames.length;
  const E = spec.members;
  return [d, d, nx, nx, ...w.slice(1).flatMap((out, l) => [E * w[l]! * out, E * out]), nx, nx];
}

function encodeWeights(s: EnsembleSnapshot): Buffer {
  const arrays = snapshotArrays(s);
  const lengths = arrayLengths(s.spec);
  if (arrays.length !== lengths.length || arrays.some((a, i) => a.length !== lengths[i]))
    throw new RangeError(`snapshot arrays [${arrays.map((a) => a.length).join(', ')}] do not match its spec [${lengths.join(', ')}]`);
  return encodeFloat32(arrays);
}

function decodeWeights(spec: ResidualSpec, elites: readonly number[], bytes: Buffer): EnsembleSnapshot {
  const [dMean, dStd, tMean, tStd, ...rest] = decodeFloat32(bytes, arrayLengths(spec)) as [Float32Array, Float32Array, Float32Array, Float32Array, ...Float32Array[]];
  const layerArrays = rest.slice(0, -2);
  const layers: EnsembleLayer[] = [];
  for (let i = 0; i < layerArrays.length; i += 2) layers.push({ weights: layerArrays[i]!, bias: layerArrays[i + 1]! });
  return { spec, input: { mean: dMean, std: dStd }, target: { mean: tMean, std: tStd }, layers, maxLogVar: rest.at(-2)!, minLogVar: rest.at(-1)!, elites: [...elites] };
}

/** Float32 arrays, concatenated little-endian: the layout of every model file. */
function encodeFloat32(arrays: readonly Float32Array[]): Buffer {
  const out = Buffer.alloc(4 * arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    if (LITTLE_ENDIAN) out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), o);
    else for (let i = 0; i < a.length; i++) out.writeFloatLE(a[i]!, o + 4 * i);
    o += a.byteLength;
  }
  return out;
}

function decodeFloat32(bytes: Buffer, lengths: readonly number[]): Float32Array[] {
  let o = 0;
  return lengths.map((n) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++, o += 4) a[i] = bytes.readFloatLE(o);
    return a;
  });
}

function readOrThrow(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ModelFileError('MODEL_MISSING', path, 'the file is missing');
    throw new ModelFileError('MODEL_CORRUPT', path, `unreadable (${(err as Error).message})`);
  }
}

function writeFileSynced(path: string, data: Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    for (let o = 0; o < data.length; ) o += writeSync(fd, data, o, data.length - o);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a folder so a rename into it survives a power loss. */
function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
