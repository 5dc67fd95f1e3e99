import { addonPart } from '../../core/native-addon.js';

/**
 * The native addon's kernels beside the MLP forward pass (native/kernels: analytic_kernel.c,
 * expression_kernel.c). Each checks every argument itself and throws TypeError/RangeError.
 */
export interface NativeVectorKernels {
  /**
   * One control period for `count` samples of the robot at index `robot` of analyticRobots(),
   * with its params block (a robot descriptor's native.paramBlock); nx and nu must be the
   * table's; integrator 0 rk4, 1 semi-implicit Euler.
   * states [count, nx], actions [count, nu], out [count, nx]; out may be states itself.
   * exact = false (default): float32 arithmetic, a few ulps from the TypeScript models per step;
   * true: double arithmetic rounded where they round, matching them bit for bit nearly always,
   * about three times slower.
   */
  analyticStep(
    robot: number,
    params: Float64Array,
    nx: number,
    nu: number,
    integrator: number,
    substeps: number,
    dt: number,
    states: Float32Array,
    actions: Float32Array,
    out: Float32Array,
    count: number,
    exact?: boolean,
  ): void;
  /** The native robot table (native/kernels/robots.h), one line per robot in index order: "name nx nu param,param,...". */
  analyticRobots(): string;
  /**
   * out [count, d]: per sample, each state's sin and cos where angularMask[i] is nonzero, else its
   * value, then the nu actions. angularMask [nx], states [count, nx], actions [count, nu].
   */
  stateFeatures(angularMask: Uint8Array, states: Float32Array, nx: number, actions: Float32Array, nu: number, count: number, out: Float32Array): void;
  /**
   * Runs an expression program (src/costs/expression-program.ts) over `count` samples:
   * costs[k] += weight * value (mode 0) or = weight * value (mode 1); returns the total, or with
   * `totalOut` [1] writes it there and returns undefined (a returned double is a heap number,
   * so the planner's per-step calls pass one).
   */
  evalExpression(
    ops: Int32Array,
    consts: Float64Array,
    states: Float32Array,
    nx: number,
    actions: Float32Array,
    nu: number,
    count: number,
    weight: number,
    costs: Float32Array,
    mode: 0 | 1,
  ): number;
  evalExpression(
    ops: Int32Array,
    consts: Float64Array,
    states: Float32Array,
    nx: number,
    actions: Float32Array,
    nu: number,
    count: number,
    weight: number,
    costs: Float32Array,
    mode: 0 | 1,
    totalOut: Float64Array,
  ): undefined;
  /** The program opcodes' names, comma-separated, in opcode order. */
  expressionOpcodes(): string;
}

const kernels = addonPart<NativeVectorKernels>(
  'the native vector kernels',
  ['analyticStep', 'analyticRobots', 'stateFeatures', 'evalExpression', 'expressionOpcodes'],
  'build them with `npm run build:native` (needs Python 3, make and a C compiler); the TypeScript paths work without them',
);

/**
 * The kernels, loaded once per thread whatever MPCD_NO_NATIVE says; throws an MpcdError naming the
 * reason where the addon does not load or is a build without them.
 */
export const loadNativeVectorKernels = kernels.load;

/**
 * The kernels, or undefined where the addon does not load (or is a build without them) or the
 * environment sets MPCD_NO_NATIVE=1 to force the portable TypeScript paths.
 */
export const nativeVectorKernels = kernels.get;
