/**
 * A robot's kinematic tree as the rigid-body model uses it: plain numbers (JSON- and
 * structured-clone-safe, so it travels to worker threads and into the native params block),
 * read once from the compiled MuJoCo model (read-kinematic-tree.ts).
 *
 * Nodes, not bodies: a body with several joints becomes a chain of nodes, one joint each, the
 * body's mass on the last one (MuJoCo applies a body's joints one after another, each in the
 * frame the previous ones left). A body with no joint is a node with no joint (welded to its
 * parent). Nodes are in tree order: parent[i] < i; -1 is the world.
 *
 * Frames: each node's frame is its body's frame; `pos`/`quat` place it in its parent node's frame
 * at the reference configuration qpos0 (identity for a body's second and later nodes).
 */
export interface KinematicTree {
  /** The model's name (MJCF `model` attribute or the file's name). */
  readonly name: string;
  /** The file it was read from, for messages. */
  readonly source: string;

  readonly nodeCount: number;
  /** [n] parent node, -1 = world. */
  readonly parent: readonly number[];
  /** [n] JOINT_NONE | JOINT_HINGE | JOINT_SLIDE. */
  readonly jointType: readonly number[];
  /** [n] the node's dof (index into q), -1 for a node without a joint. */
  readonly dof: readonly number[];
  /** [n, 3] node origin in the parent node's frame at qpos0. */
  readonly pos: readonly number[];
  /** [n, 4] node orientation in the parent node's frame, unit quaternion (w, x, y, z). */
  readonly quat: readonly number[];
  /** [n, 3] joint axis in the node's frame (unit). */
  readonly axis: readonly number[];
  /** [n, 3] point on the joint axis in the node's frame. */
  readonly anchor: readonly number[];
  /** [n] kg. */
  readonly mass: readonly number[];
  /** [n, 3] centre of mass in the node's frame. */
  readonly com: readonly number[];
  /** [n, 6] rotational inertia about the centre of mass in the node's frame: xx, yy, zz, xy, xz, yz. */
  readonly inertia: readonly number[];

  /** Generalized coordinates: one per hinge or slide joint. */
  readonly nq: number;
  /** [nq] joint names (state names are `<joint>` and `<joint>_dot`). */
  readonly jointNames: readonly string[];
  /** [nq] true for a hinge without a range: an angle that wraps (fed to learners as sin/cos). */
  readonly wraps: readonly boolean[];
  /** [nq] q at the reference configuration: a hinge turns by q - qpos0, a slide moves by q - qpos0. */
  readonly qpos0: readonly number[];
  /** [nq] viscous damping, N m s/rad or N s/m. */
  readonly damping: readonly number[];
  /** [nq] reflected rotor inertia added to the joint-space inertia's diagonal. */
  readonly armature: readonly number[];
  /** [nq] joint spring stiffness and its rest position. */
  readonly stiffness: readonly number[];
  readonly springRef: readonly number[];
  /** [nq] dry friction force or torque (smoothed: see articulated-body.ts). */
  readonly frictionloss: readonly number[];
  /**
   * [nq, 2] the joint's range where MuJoCo limits it ([-Infinity, Infinity] where not). The model
   * does not enforce it (the plant's limit constraint is unmodelled, named at start-up): costs
   * keep plans inside, and the session reports how far a plant went past it.
   */
  readonly jointRange: readonly number[];
  /** [nq] clamp of the total actuator force at the joint ([-Infinity, Infinity] where none). */
  readonly actuatorForceRange: readonly number[];

  /** Actuators on hinge or slide joints, in MuJoCo's order: actions are their controls. */
  readonly nu: number;
  readonly actuatorNames: readonly string[];
  /** [nu] the dof the actuator drives. */
  readonly actuatorDof: readonly number[];
  /** [nu] transmission gear: joint force = gear * actuator force, actuator length = gear * q. */
  readonly gear: readonly number[];
  /** [nu, 3] force = (g0 + g1 * length + g2 * velocity) * ctrl + (b0 + b1 * length + b2 * velocity). */
  readonly gain: readonly number[];
  readonly bias: readonly number[];
  /** [nu, 2] ctrl clamp ([-Infinity, Infinity] where the actuator is not ctrl-limited). */
  readonly ctrlRange: readonly number[];
  /** [nu, 2] actuator force clamp ([-Infinity, Infinity] where not force-limited). */
  readonly forceRange: readonly number[];

  /** m/s^2 in the world frame. */
  readonly gravity: readonly [number, number, number];

  /** Named points for costs: sites and bodies, each on a node at a position in its frame. */
  readonly points: readonly TreePoint[];

  /** What the file holds that this model does not represent, one phrase each (empty when none). */
  readonly unsupported: readonly string[];
}

export interface TreePoint {
  readonly name: string;
  readonly kind: 'site' | 'body';
  /** The node whose frame holds it (the body's last node); -1 = the world. */
  readonly node: number;
  /** [3] position in that node's frame. */
  readonly pos: readonly number[];
}

export const JOINT_NONE = 0;
export const JOINT_HINGE = 1;
export const JOINT_SLIDE = 2;

/** The state names of a tree: [q (nq), q_dot (nq)]. */
export function treeStateNames(tree: KinematicTree): string[] {
  return [...tree.jointNames, ...tree.jointNames.map((n) => `${n}_dot`)];
}

/** Per state: true where the state is a wrapping angle (only positions wrap). */
export function treeAngular(tree: KinematicTree): boolean[] {
  return [...tree.wraps, ...tree.wraps.map(() => false)];
}
