import type { z } from 'zod';
import type { ContinuousDynamics } from '../dynamics.js';

/**
 * One robot, once: everything the registry, the config schema, the native kernel and the GPU
 * path need to know about it. Each robot's file (src/models/analytic/<robot>.ts) exports one;
 * registry.ts lists them. The state is [q (nq), qdot (nq)], so nx = 2 * nq; nu = actionNames.length.
 *
 * Functions are written as methods so that a list of descriptors with different params types
 * is one array type (method parameters are checked bivariantly).
 */
export interface RobotDescriptor<S extends z.ZodObject = z.ZodObject, N extends string = string> {
  /** The name used as `model.robot` in config. */
  readonly name: N;
  /** The robot's `model.params` (strict; every field has a default or is optional). */
  readonly params: S;
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  /** Per state: true where the value is an angle (wrapped, fed to learners as sin/cos). */
  readonly angular: readonly boolean[];
  /** Number of generalized coordinates; stateDim = 2 * nq and d/dt q = qdot. */
  readonly nq: number;
  /**
   * Batched continuous dynamics for validated params: writes d/dt state into `deriv` for `count`
   * samples; states [count, nx], actions [count, nu], deriv [count, nx]. Derived constants are
   * computed once, here, not per call.
   */
  derivatives(params: z.output<S>): DerivativesFn;
  /** Where the native addon has this robot (native/kernels/robots/<robot>.h). */
  readonly native?: NativeRobotPart<z.output<S>>;
  /** Where the GPU rollout kernel has this robot. */
  readonly wgsl?: WgslRobotPart<z.output<S>>;
}

export type DerivativesFn = (states: Float32Array, actions: Float32Array, deriv: Float32Array, count: number) => void;

/**
 * The robot in the C kernel: its entry in the one robot table (native/kernels/robots.h), found
 * by name, with its params block in the order of the robot's C consts.
 */
export interface NativeRobotPart<P> {
  /** The name of the robot's entry in the C table (the addon's analyticRobots()). */
  readonly kernel: string;
  /** The params block's entries, in order (the C robot checks the length). */
  readonly paramNames: readonly string[];
  /** The params block, computed as the TypeScript derivatives compute their constants. */
  paramBlock(params: P): Float64Array;
}

/** Where WGSL reads a run-time constant: ParamBlock (src/gpu/param-block.ts) implements it. */
export interface WgslParamRefs {
  /** Stores `value` and returns the WGSL expression that reads it. */
  ref(value: number): string;
}

export interface WgslRobotPart<P> {
  /**
   * The WGSL function
   *   fn dynamics(s: array<f32, nx>, a: array<f32, nu>) -> array<f32, nx>   (d/dt of the state)
   * line for line the arithmetic of `derivatives`; constants read through `refs`. It may call
   * mpcd_sin, mpcd_cos and mpcd_sincos (src/gpu/wgsl-math.ts).
   */
  dynamics(params: P, refs: WgslParamRefs): string;
}

/** Any robot, as the registry holds them. */
export type AnyRobotDescriptor = RobotDescriptor<z.ZodObject, string>;

/** Checks a descriptor's sizes once, at module load, and returns it with its literal name. */
export function defineRobot<const N extends string, S extends z.ZodObject>(robot: RobotDescriptor<S, N>): RobotDescriptor<S, N> {
  const nx = 2 * robot.nq;
  if (!Number.isInteger(robot.nq) || robot.nq < 1) throw new Error(`robot ${robot.name}: nq must be an integer >= 1, got ${robot.nq}`);
  if (robot.stateNames.length !== nx) throw new Error(`robot ${robot.name}: ${robot.stateNames.length} state names, but nq ${robot.nq} means ${nx}`);
  if (robot.angular.length !== nx) throw new Error(`robot ${robot.name}: ${robot.angular.length} angular flags for ${nx} states`);
  if (robot.actionNames.length < 1) throw new Error(`robot ${robot.name}: needs at least one action`);
  return robot;
}

/** The robot's ContinuousDynamics for validated params (its names, flags and derivatives). */
export function continuousDynamics<S extends z.ZodObject>(robot: RobotDescriptor<S>, params: z.output<S>): ContinuousDynamics {
  return { stateNames: robot.stateNames, actionNames: robot.actionNames, angular: robot.angular, nq: robot.nq, derivatives: robot.derivatives(params) };
}
