import type { DynamicsModel } from '../dynamics.js';
import type { IntegratorKind } from '../integrators.js';
import { nativeVectorKernels, type NativeVectorKernels } from '../residual/native-vector-kernels.js';
import { robotDescriptor, type RobotName } from './registry.js';

/** What picks an analytic model: the robot, its raw (unvalidated) params and the integration. */
export interface AnalyticModelInputs {
  robot: RobotName;
  params: unknown;
  integrator: IntegratorKind;
  substeps: number;
  maxBatch: number;
  /**
   * Native arithmetic: false (default) float32, a few float32 ulps from the TypeScript models per
   * step and about three times faster; true double, rounded where the TypeScript rounds, so that
   * the results match it bit for bit nearly always.
   */
  exact?: boolean;
}

const INTEGRATOR_CODES: Record<IntegratorKind, number> = { rk4: 0, semi_implicit_euler: 1 };

/** One entry of the addon's robot table (analyticRobots()). */
export interface NativeRobotEntry {
  index: number;
  name: string;
  nx: number;
  nu: number;
  paramNames: string[];
}

const tables = new WeakMap<NativeVectorKernels, ReadonlyMap<string, NativeRobotEntry>>();

/** The addon's robot table by name, parsed once per addon. */
export function nativeRobotTable(kernels: NativeVectorKernels): ReadonlyMap<string, NativeRobotEntry> {
  let table = tables.get(kernels);
  if (table === undefined) {
    const entries = kernels
      .analyticRobots()
      .split('\n')
      .filter((line) => line !== '')
      .map((line, index): NativeRobotEntry => {
        const [name = '', nx = '', nu = '', params = ''] = line.split(' ');
        return { index, name, nx: Number(nx), nu: Number(nu), paramNames: params === '' ? [] : params.split(',') };
      });
    table = new Map(entries.map((e) => [e.name, e]));
    tables.set(kernels, table);
  }
  return table;
}

/**
 * The robot's discrete model stepped by the native addon (16 samples at a time in SIMD
 * registers, in float32 unless `exact`), or undefined where the addon does not load,
 * MPCD_NO_NATIVE=1, or the robot's descriptor has no native part; then `discretize` gives the
 * portable one. Throws as createAnalytic does on bad params, a RangeError on bad substeps, as
 * discretize does, and an Error where the descriptor and the addon's table disagree (sizes or
 * params: a stale build). `kernels` defaults to nativeVectorKernels() (which honours MPCD_NO_NATIVE).
 */
export function nativeAnalyticModel(inputs: AnalyticModelInputs, kernels = nativeVectorKernels()): DynamicsModel | undefined {
  const robot = robotDescriptor(inputs.robot);
  if (kernels === undefined || robot.native === undefined) return undefined;
  const entry = nativeRobotTable(kernels).get(robot.native.kernel);
  const nx = robot.stateNames.length;
  const nu = robot.actionNames.length;
  const names = robot.native.paramNames.join(',');
  if (entry === undefined || entry.nx !== nx || entry.nu !== nu || entry.paramNames.join(',') !== names) {
    const found = entry === undefined ? 'no such entry' : `nx ${entry.nx}, nu ${entry.nu}, params ${entry.paramNames.join(',')}`;
    throw new Error(
      `robot ${robot.name}: the native addon's entry "${robot.native.kernel}" (${found}) does not match the descriptor (nx ${nx}, nu ${nu}, params ${names}); rebuild with npm run build:native`,
    );
  }
  const params = robot.params.parse(inputs.params ?? {});
  return new NativeAnalyticModel(kernels, inputs, entry.index, robot.native.paramBlock(params));
}

export class NativeAnalyticModel implements DynamicsModel {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  readonly angular: readonly boolean[];
  readonly maxBatch: number;
  private readonly nx: number;
  private readonly nu: number;
  private readonly integrator: number;
  private readonly substeps: number;
  private readonly exact: boolean;

  constructor(
    private readonly kernels: NativeVectorKernels,
    inputs: AnalyticModelInputs,
    private readonly robot: number,
    private readonly params: Float64Array,
  ) {
    if (!Number.isInteger(inputs.substeps) || inputs.substeps < 1) throw new RangeError('substeps must be an integer >= 1');
    const descriptor = robotDescriptor(inputs.robot);
    this.stateNames = descriptor.stateNames;
    this.actionNames = descriptor.actionNames;
    this.angular = descriptor.angular;
    this.nx = descriptor.stateNames.length;
    this.nu = descriptor.actionNames.length;
    this.maxBatch = inputs.maxBatch;
    this.integrator = INTEGRATOR_CODES[inputs.integrator];
    this.substeps = inputs.substeps;
    this.exact = inputs.exact ?? false;
  }

  /** states [count, nx], actions [count, nu], out [count, nx] (out may be states itself). */
  step(states: Float32Array, actions: Float32Array, out: Float32Array, count: number, dt: number): void {
    this.kernels.analyticStep(this.robot, this.params, this.nx, this.nu, this.integrator, this.substeps, dt, states, actions, out, count, this.exact);
  }
}
