import type { ContinuousDynamics, DynamicsModel } from '../dynamics.js';
import type { IntegratorKind } from '../integrators.js';
import type { RigidBodyOptions } from './articulated-body.js';
import { hasQuaternions, hasSiteActuators, treeAngular, treeStateNames, type KinematicTree } from './kinematic-tree.js';
import { nativeRigidBodyKernels, type NativeRigidBodyKernels } from './native-rigid-body-kernels.js';
import { rigidBodyBlock } from './rigid-body-block.js';

/** What the native rigid-body model needs: the tree, its options and the integration. */
export interface NativeRigidBodyInputs {
  tree: KinematicTree;
  options: RigidBodyOptions;
  integrator: IntegratorKind;
  substeps: number;
  maxBatch: number;
  /**
   * Native arithmetic: false (default) float32; true double inside, rounded to float32 where the
   * TypeScript twin discretized rounds, about twice as slow.
   */
  exact?: boolean;
}

const INTEGRATOR_CODES: Record<IntegratorKind, number> = { rk4: 0, semi_implicit_euler: 1 };

/**
 * The tree's discrete model stepped by the native addon (the articulated-body algorithm with the
 * samples across SIMD lanes, native/kernels/rigid_body_kernel.c), or undefined where the addon
 * does not load or predates the kernel, or MPCD_NO_NATIVE=1, or the tree has ball or free joints
 * or site actuators, which the kernel does not model (nativeKernelTakes): then the caller discretizes the
 * TypeScript twin (articulatedBodyDerivatives, articulated-body.ts), which it matches to float32
 * rounding (bit for bit nearly always when `exact`).
 * Throws a RangeError on bad substeps (as discretize does) and where the kernel cannot take the
 * tree (rigidBodyBlock). `kernels` defaults to nativeRigidBodyKernels() (which honours MPCD_NO_NATIVE).
 */
export function nativeRigidBodyModel(inputs: NativeRigidBodyInputs, kernels = nativeRigidBodyKernels()): DynamicsModel | undefined {
  if (kernels === undefined || !nativeKernelTakes(inputs.tree)) return undefined;
  return new NativeRigidBodyModel(kernels, inputs);
}

export class NativeRigidBodyModel implements DynamicsModel {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  readonly angular: readonly boolean[];
  readonly maxBatch: number;
  private readonly block: Float64Array;
  private readonly integrator: number;
  private readonly substeps: number;
  private readonly exact: boolean;

  constructor(
    private readonly kernels: NativeRigidBodyKernels,
    inputs: NativeRigidBodyInputs,
  ) {
    if (!Number.isInteger(inputs.substeps) || inputs.substeps < 1) throw new RangeError('substeps must be an integer >= 1');
    this.stateNames = treeStateNames(inputs.tree);
    this.actionNames = inputs.tree.actuatorNames;
    this.angular = treeAngular(inputs.tree);
    this.maxBatch = inputs.maxBatch;
    this.block = rigidBodyBlock(inputs.tree, inputs.options);
    this.integrator = INTEGRATOR_CODES[inputs.integrator];
    this.substeps = inputs.substeps;
    this.exact = inputs.exact ?? false;
  }

  /** states [count, 2nq], actions [count, nu], out [count, 2nq] (out may be states itself). */
  step(states: Float32Array, actions: Float32Array, out: Float32Array, count: number, dt: number): void {
    this.kernels.rigidBodyStep(this.block, this.integrator, this.substeps, dt, states, actions, out, count, this.exact);
  }
}

/**
 * The tree's continuous dynamics by the native kernel (articulatedBodyDerivatives' native twin,
 * for tests and for wrapping in a hybrid model), or undefined where the kernel is not there.
 */
export function nativeRigidBodyDynamics(
  tree: KinematicTree,
  options: RigidBodyOptions,
  exact = false,
  kernels = nativeRigidBodyKernels(),
): ContinuousDynamics | undefined {
  if (kernels === undefined || !nativeKernelTakes(tree)) return undefined;
  const block = rigidBodyBlock(tree, options);
  return {
    stateNames: treeStateNames(tree),
    actionNames: tree.actuatorNames,
    angular: treeAngular(tree),
    nq: tree.nq,
    derivatives: (states, actions, deriv, count) => kernels.rigidBodyDerivatives(block, states, actions, deriv, count, exact),
  };
}

/**
 * Whether the native kernel models the tree: hinges and slides driven by joint actuators only.
 * Ball and free joints (quaternions, nq != nv, multi-dof joints) and site actuators are the
 * TypeScript model's alone; the kernel would give wrong numbers for them, so callers fall back.
 */
export function nativeKernelTakes(tree: KinematicTree): boolean {
  return !hasQuaternions(tree) && !hasSiteActuators(tree);
}
