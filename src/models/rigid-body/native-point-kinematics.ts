import type { RigidBodyOptions } from './articulated-body.js';
import { hasQuaternions, type KinematicTree, type TreePoint } from './kinematic-tree.js';
import { nativeRigidBodyPoints, type NativeRigidBodyPoints } from './native-rigid-body-kernels.js';
import { PointKinematics } from './point-kinematics.js';
import { rigidBodyBlock, rigidBodyPointsBlock } from './rigid-body-block.js';

/** Batched forward kinematics of named points: PointKinematics' contract (compute's layout, POINT_COMPONENTS). */
export interface PointKinematicsFn {
  readonly points: readonly TreePoint[];
  compute(states: Float32Array, count: number, out: Float32Array, stride: number, offset: number): void;
}

/**
 * PointKinematics by the native rigid-body kernel (rigidBodyPoints: the samples across SIMD lanes,
 * float32 arithmetic), which matches the TypeScript to float32 rounding. `options` only
 * completes the tree's params block (forward kinematics does not read them).
 */
export class NativePointKinematics implements PointKinematicsFn {
  private readonly block: Float64Array;
  private readonly pointsBlock: Float64Array;

  constructor(
    private readonly kernel: NativeRigidBodyPoints,
    tree: KinematicTree,
    readonly points: readonly TreePoint[],
    options: RigidBodyOptions,
  ) {
    this.block = rigidBodyBlock(tree, options);
    this.pointsBlock = rigidBodyPointsBlock(tree, points);
  }

  compute(states: Float32Array, count: number, out: Float32Array, stride: number, offset: number): void {
    this.kernel.rigidBodyPoints(this.block, this.pointsBlock, states, count, out, stride, offset);
  }
}

/**
 * The points' forward kinematics: native where the addon has rigidBodyPoints (and MPCD_NO_NATIVE
 * is not 1) and the kernel can take the tree (no ball or free joints), else the TypeScript PointKinematics, the portable
 * fallback. `kernel` defaults to nativeRigidBodyPoints().
 */
export function pointKinematics(
  tree: KinematicTree,
  points: readonly TreePoint[],
  options: RigidBodyOptions,
  kernel: NativeRigidBodyPoints | undefined = nativeRigidBodyPoints(),
): PointKinematicsFn {
  // The native kernel knows hinges and slides only (state [q, q_dot], nq = nv).
  if (kernel !== undefined && !hasQuaternions(tree)) {
    try {
      return new NativePointKinematics(kernel, tree, points, options);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err; // a tree or points the kernel cannot take: the TypeScript can
    }
  }
  return new PointKinematics(tree, points);
}
