import type { RigidBodyOptions } from './articulated-body.js';
import type { KinematicTree, TreePoint } from './kinematic-tree.js';

/**
 * The native rigid-body kernel's params block: a KinematicTree and the friction velocity as one
 * Float64Array, read by native/kernels/rigid_body_kernel.c (the same layout is written out in
 * native/kernels/rigid_body_block.h; a change here is a change there and a new layout version).
 *
 *   header, RB_HEADER doubles:
 *     0  layout version (RB_LAYOUT_VERSION)
 *     1  node count n (1..RB_MAX_NODES)
 *     2  nq (0..n): hinge and slide joints
 *     3  nu (0..RB_MAX_ACTUATORS): actuators
 *     4  friction velocity v_s (> 0): dry friction is -frictionloss * tanh(q_dot / v_s)
 *     5  gravity x, 6 y, 7 z (m/s^2, world frame)
 *   n nodes, RB_NODE_STRIDE doubles each, in tree order:
 *     0  parent node (-1 = the world; otherwise < the node's own index)
 *     1  joint type (0 none, 1 hinge, 2 slide)
 *     2  dof (index into q; -1 for a node without a joint; every dof on exactly one node)
 *     3..6    quat w x y z: the node's frame in its parent's at qpos0
 *     7..9    pos
 *     10..12  joint axis (node frame, unit)
 *     13..15  joint anchor (node frame)
 *     16      mass
 *     17..19  centre of mass (node frame)
 *     20..25  inertia about the centre of mass (node frame): xx yy zz xy xz yz
 *   nq dofs, RB_DOF_STRIDE doubles each:
 *     0 qpos0, 1 damping, 2 armature, 3 stiffness, 4 spring reference, 5 frictionloss,
 *     6 actuator force clamp low, 7 high (of the total actuator force at the joint)
 *   nu actuators, RB_ACTUATOR_STRIDE doubles each:
 *     0 dof, 1 gear, 2..4 gain g0 g1 g2, 5..7 bias b0 b1 b2,
 *     8 ctrl clamp low, 9 high, 10 force clamp low, 11 high
 *
 * Length RB_HEADER + n * RB_NODE_STRIDE + nq * RB_DOF_STRIDE + nu * RB_ACTUATOR_STRIDE exactly.
 * Absent clamps are -Infinity and +Infinity themselves (a Float64Array keeps them; there is no
 * sentinel); every other number must be finite. The kernel checks all of it on every call and
 * throws a RangeError naming the first field that is wrong.
 */
export const RB_LAYOUT_VERSION = 1;
export const RB_HEADER = 8;
export const RB_NODE_STRIDE = 26;
export const RB_DOF_STRIDE = 8;
export const RB_ACTUATOR_STRIDE = 12;
/** The kernel keeps per-node scratch for at most this many nodes (and actuators). */
export const RB_MAX_NODES = 64;
export const RB_MAX_ACTUATORS = 256;

/** The block's length for a tree of n nodes, nq dofs and nu actuators. */
export function rigidBodyBlockLength(n: number, nq: number, nu: number): number {
  return RB_HEADER + n * RB_NODE_STRIDE + nq * RB_DOF_STRIDE + nu * RB_ACTUATOR_STRIDE;
}

/**
 * The tree's params block. Throws a RangeError where the kernel could not take the tree (more
 * than RB_MAX_NODES nodes or RB_MAX_ACTUATORS actuators, a friction velocity that is not > 0).
 */
export function rigidBodyBlock(tree: KinematicTree, options: RigidBodyOptions): Float64Array {
  const n = tree.nodeCount;
  const { nq, nu } = tree;
  if (n < 1 || n > RB_MAX_NODES) throw new RangeError(`${tree.source}: the native rigid-body kernel takes 1 to ${RB_MAX_NODES} nodes, the tree has ${n}`);
  if (nu > RB_MAX_ACTUATORS) throw new RangeError(`${tree.source}: the native rigid-body kernel takes at most ${RB_MAX_ACTUATORS} actuators, the tree has ${nu}`);
  if (!(options.frictionVelocity > 0 && Number.isFinite(options.frictionVelocity))) {
    throw new RangeError(`the friction velocity must be finite and > 0, got ${options.frictionVelocity}`);
  }
  const block = new Float64Array(rigidBodyBlockLength(n, nq, nu));
  block.set([RB_LAYOUT_VERSION, n, nq, nu, options.frictionVelocity, ...tree.gravity], 0);
  let o = RB_HEADER;
  for (let i = 0; i < n; i++, o += RB_NODE_STRIDE) {
    block[o] = tree.parent[i]!;
    block[o + 1] = tree.jointType[i]!;
    block[o + 2] = tree.dof[i]!;
    block.set(tree.quat.slice(4 * i, 4 * i + 4), o + 3);
    block.set(tree.pos.slice(3 * i, 3 * i + 3), o + 7);
    block.set(tree.axis.slice(3 * i, 3 * i + 3), o + 10);
    block.set(tree.anchor.slice(3 * i, 3 * i + 3), o + 13);
    block[o + 16] = tree.mass[i]!;
    block.set(tree.com.slice(3 * i, 3 * i + 3), o + 17);
    block.set(tree.inertia.slice(6 * i, 6 * i + 6), o + 20);
  }
  for (let d = 0; d < nq; d++, o += RB_DOF_STRIDE) {
    block.set(
      [
        tree.qpos0[d]!, tree.damping[d]!, tree.armature[d]!, tree.stiffness[d]!, tree.springRef[d]!, tree.frictionloss[d]!,
        tree.actuatorForceRange[2 * d]!, tree.actuatorForceRange[2 * d + 1]!,
      ],
      o,
    );
  }
  for (let a = 0; a < nu; a++, o += RB_ACTUATOR_STRIDE) {
    block.set(
      [
        tree.actuatorDof[a]!, tree.gear[a]!, ...tree.gain.slice(3 * a, 3 * a + 3), ...tree.bias.slice(3 * a, 3 * a + 3),
        tree.ctrlRange[2 * a]!, tree.ctrlRange[2 * a + 1]!, tree.forceRange[2 * a]!, tree.forceRange[2 * a + 1]!,
      ],
      o,
    );
  }
  return block;
}

/**
 * The points block of the native kernel's forward kinematics (rigidBodyPoints): named points of a
 * tree as one Float64Array, read by native/kernels/rigid_body_kernel.c (the layout is written out
 * in native/kernels/rigid_body_block.h too):
 *
 *   header, RB_POINTS_HEADER doubles: 0 layout version (RB_POINTS_LAYOUT_VERSION), 1 point count
 *     np (1..RB_MAX_POINTS)
 *   np points, RB_POINT_STRIDE doubles each: 0 node (-1 = the world, else a node of the tree),
 *     1..3 position in that node's frame (TreePoint.node and .pos)
 *
 * The kernel checks it against the tree's block on every call.
 */
export const RB_POINTS_LAYOUT_VERSION = 1;
export const RB_POINTS_HEADER = 2;
export const RB_POINT_STRIDE = 4;
export const RB_MAX_POINTS = 256;

/** The points' block. Throws a RangeError where the kernel could not take them (none, more than RB_MAX_POINTS, a node the tree has not). */
export function rigidBodyPointsBlock(tree: KinematicTree, points: readonly TreePoint[]): Float64Array {
  if (points.length < 1 || points.length > RB_MAX_POINTS) {
    throw new RangeError(`${tree.source}: the native rigid-body kernel takes 1 to ${RB_MAX_POINTS} points, got ${points.length}`);
  }
  const block = new Float64Array(RB_POINTS_HEADER + points.length * RB_POINT_STRIDE);
  block[0] = RB_POINTS_LAYOUT_VERSION;
  block[1] = points.length;
  points.forEach((p, j) => {
    if (!Number.isInteger(p.node) || p.node < -1 || p.node >= tree.nodeCount) throw new RangeError(`${tree.source}: point ${p.name} is on node ${p.node}, not one of the tree's`);
    block.set([p.node, p.pos[0]!, p.pos[1]!, p.pos[2]!], RB_POINTS_HEADER + j * RB_POINT_STRIDE);
  });
  return block;
}
