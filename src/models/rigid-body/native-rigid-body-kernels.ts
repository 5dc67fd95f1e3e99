import { addonPart } from '../../core/native-addon.js';

/**
 * The native addon's rigid-body kernel (native/kernels/rigid_body_kernel.c), typed apart from
 * NativeVectorKernels so that an addon built before it still serves the other kernels. Both
 * functions take a params block (rigidBodyBlock, rigid-body-block.ts), check every argument
 * and throw TypeError/RangeError naming what is wrong (a block of another layout version: a
 * stale build).
 */
export interface NativeRigidBodyKernels {
  /**
   * One control period for `count` samples: integrator 0 rk4, 1 semi-implicit Euler, `substeps`
   * sub-steps of dt / substeps, as integrators.ts integrates. states [count, 2nq], actions
   * [count, nu], out [count, 2nq] (out may be states itself). exact = false (default): float32
   * arithmetic; true: double, rounded where the TypeScript rounds, about twice as slow.
   */
  rigidBodyStep(
    block: Float64Array,
    integrator: number,
    substeps: number,
    dt: number,
    states: Float32Array,
    actions: Float32Array,
    out: Float32Array,
    count: number,
    exact?: boolean,
  ): void;
  /** d/dt state for `count` samples: deriv [count, 2nq] = [q_dot, q_ddot]; deriv shares memory with neither input. */
  rigidBodyDerivatives(block: Float64Array, states: Float32Array, actions: Float32Array, deriv: Float32Array, count: number, exact?: boolean): void;
}

/**
 * The kernel's forward kinematics of named points (an addon built before it lacks it, and still
 * serves NativeRigidBodyKernels). block: rigidBodyBlock; points: rigidBodyPointsBlock of the same
 * tree; states [count, 2nq]; out[k * stride + offset + 6 j + c] for sample k, point j and c of
 * POINT_COMPONENTS (x, y, z, x_dot, y_dot, z_dot), as PointKinematics.compute writes them; out
 * shares no memory with states; offset + 6 * points <= stride. float32 arithmetic.
 */
export interface NativeRigidBodyPoints {
  rigidBodyPoints(block: Float64Array, points: Float64Array, states: Float32Array, count: number, out: Float32Array, stride: number, offset: number): void;
}

const kernels = addonPart<NativeRigidBodyKernels>(
  'the native rigid-body kernel',
  ['rigidBodyStep', 'rigidBodyDerivatives'],
  'build it with `npm run build:native` (needs Python 3, make and a C compiler); the TypeScript rigid-body model works without it',
);

/** The kernel, loaded once per thread whatever MPCD_NO_NATIVE says; throws an MpcdError naming why it cannot. */
export const loadNativeRigidBodyKernels = kernels.load;

/** The kernel, or undefined where the addon does not load (or predates it) or MPCD_NO_NATIVE=1. */
export const nativeRigidBodyKernels = kernels.get;

/** The kernel's forward kinematics of points, or undefined where the addon does not load or predates it, or MPCD_NO_NATIVE=1. */
export function nativeRigidBodyPoints(): NativeRigidBodyPoints | undefined {
  if (process.env['MPCD_NO_NATIVE'] === '1') return undefined;
  try {
    const kernels = loadNativeRigidBodyKernels() as Partial<NativeRigidBodyPoints>;
    return typeof kernels.rigidBodyPoints === 'function' ? (kernels as NativeRigidBodyPoints) : undefined;
  } catch {
    return undefined;
  }
}
