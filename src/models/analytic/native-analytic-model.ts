import type { DynamicsModel } from '../dynamics.js';
import type { IntegratorKind } from '../integrators.js';
import { nativeVectorKernels, type NativeVectorKernels } from '../residual/native-vector-kernels.js';
import { cartpoleConstants, cartpoleParams } from './cartpole.js';
import { pendulumParams } from './pendulum.js';
import { createAnalytic, type RobotName } from './registry.js';

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

/**
 * The robots with native dynamics, and their params in the addon's order, computed as the
 * TypeScript closures in cartpole.ts and pendulum.ts compute them (same operations, same order:
 * the native step then matches the TypeScript one in float32).
 */
const NATIVE_ROBOTS: Partial<Record<RobotName, { code: number; params: (raw: unknown) => Float64Array }>> = {
  cartpole: {
    code: 0,
    params: (raw) => {
      const p = cartpoleParams.parse(raw ?? {});
      const { Mt, J, ml } = cartpoleConstants(p);
      // [Mt, J, ml, g, bx, bth, gear]
      return Float64Array.of(Mt, J, ml, p.gravity, p.cart_damping, p.pole_damping, p.gear);
    },
  },
  pendulum: {
    code: 1,
    params: (raw) => {
      const p = pendulumParams.parse(raw ?? {});
      const l = p.length / 2;
      const J = p.inertia ?? (p.mass * p.length * p.length) / 3;
      // [mgl, J, b, gear]
      return Float64Array.of(p.mass * p.gravity * l, J, p.damping, p.gear);
    },
  },
};

const INTEGRATOR_CODES: Record<IntegratorKind, number> = { rk4: 0, semi_implicit_euler: 1 };

/**
 * The robot's discrete model stepped by the native addon (16 samples at a time in SIMD
 * registers, in float32 unless `exact`), or undefined where the addon does not load,
 * MPCD_NO_NATIVE=1, or the robot has no native dynamics; then `discretize` gives the portable
 * one. Throws as createAnalytic does on bad params, and a RangeError on bad substeps, as
 * discretize does. `kernels` defaults to nativeVectorKernels() (which honours MPCD_NO_NATIVE).
 */
export function nativeAnalyticModel(inputs: AnalyticModelInputs, kernels = nativeVectorKernels()): DynamicsModel | undefined {
  const robot = NATIVE_ROBOTS[inputs.robot];
  if (kernels === undefined || robot === undefined) return undefined;
  return new NativeAnalyticModel(kernels, inputs, robot.code, robot.params(inputs.params));
}

export class NativeAnalyticModel implements DynamicsModel {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  readonly angular: readonly boolean[];
  readonly maxBatch: number;
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
    const dynamics = createAnalytic(inputs.robot, inputs.params);
    this.stateNames = dynamics.stateNames;
    this.actionNames = dynamics.actionNames;
    this.angular = dynamics.angular;
    this.maxBatch = inputs.maxBatch;
    this.integrator = INTEGRATOR_CODES[inputs.integrator];
    this.substeps = inputs.substeps;
    this.exact = inputs.exact ?? false;
  }

  /** states [count, nx], actions [count, 1], out [count, nx] (out may be states itself). */
  step(states: Float32Array, actions: Float32Array, out: Float32Array, count: number, dt: number): void {
    this.kernels.analyticStep(this.robot, this.params, this.integrator, this.substeps, dt, states, actions, out, count, this.exact);
  }
}
