import type { TaskConfig, TaskParamConfig } from '../config/schema.js';
import type { LiveParams } from './live-params.js';

/** One task param as config declares it, with the plain-number form spelled out. */
export interface TaskParamSpec {
  readonly name: string;
  readonly value: number;
  readonly bounds: readonly [number, number] | undefined;
  readonly live: boolean;
}

export function taskParamSpec(name: string, p: TaskParamConfig): TaskParamSpec {
  return typeof p === 'number' ? { name, value: p, bounds: undefined, live: false } : { name, value: p.default, bounds: p.bounds, live: p.live };
}

export function taskParamSpecs(task: Pick<TaskConfig, 'params'>): TaskParamSpec[] {
  return Object.entries(task.params).map(([name, p]) => taskParamSpec(name, p));
}

/** The params that are constants, by name: compiled costs fold these in. */
export function constantParams(task: Pick<TaskConfig, 'params'>): Record<string, number> {
  return Object.fromEntries(taskParamSpecs(task).filter((p) => !p.live).map((p) => [p.name, p.value]));
}

/** The live params' names in config order: the layout of every LiveParams.values. */
export function liveParamNames(task: Pick<TaskConfig, 'params'>): string[] {
  return taskParamSpecs(task).filter((p) => p.live).map((p) => p.name);
}

/** Why `value` cannot be the new value of `spec`, or undefined when it can. */
export function refuseParamValue(spec: TaskParamSpec, value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${spec.name} must be a finite number, got ${String(value)}`;
  if (spec.bounds !== undefined && (value < spec.bounds[0] || value > spec.bounds[1])) return `${spec.name} = ${value} is outside its bounds [${spec.bounds[0]}, ${spec.bounds[1]}]`;
  return undefined;
}

/**
 * The current values of a task's live params, starting at their defaults. `values` is a view on
 * `buffer` (a SharedArrayBuffer where rollout workers read the same values), [live params] in
 * liveParamNames order.
 */
export class LiveParamValues implements LiveParams {
  readonly names: readonly string[];
  readonly values: Float64Array;
  readonly buffer: SharedArrayBuffer;
  private readonly specs: ReadonlyMap<string, { spec: TaskParamSpec; index: number }>;

  constructor(task: Pick<TaskConfig, 'params'>, buffer?: SharedArrayBuffer) {
    const live = taskParamSpecs(task).filter((p) => p.live);
    this.names = live.map((p) => p.name);
    this.buffer = buffer ?? new SharedArrayBuffer(Math.max(1, live.length) * 8);
    if (this.buffer.byteLength < live.length * 8) throw new RangeError(`LiveParamValues: a buffer of ${this.buffer.byteLength} bytes for ${live.length} params`);
    this.values = new Float64Array(this.buffer, 0, live.length);
    this.specs = new Map(live.map((spec, index) => [spec.name, { spec, index }]));
    if (buffer === undefined) this.reset();
  }

  /** Every live param back to its default. */
  reset(): void {
    for (const { spec, index } of this.specs.values()) this.values[index] = spec.value;
  }

  /** Why `name` cannot take `value`, or undefined when it can. */
  refuse(name: string, value: unknown): string | undefined {
    const entry = this.specs.get(name);
    if (entry === undefined) return `${name} is not a live param of this task${this.names.length > 0 ? ` (live: ${this.names.join(', ')})` : ' (it has none)'}`;
    return refuseParamValue(entry.spec, value);
  }

  /** Sets `name` to `value` and returns undefined, or leaves it and returns why not. */
  set(name: string, value: unknown): string | undefined {
    const why = this.refuse(name, value);
    if (why === undefined) this.values[this.specs.get(name)!.index] = value as number;
    return why;
  }

  /** The current values by name. */
  current(): Record<string, number> {
    return Object.fromEntries(this.names.map((n, i) => [n, this.values[i]!]));
  }

  get(name: string): number | undefined {
    const entry = this.specs.get(name);
    return entry === undefined ? undefined : this.values[entry.index];
  }
}
