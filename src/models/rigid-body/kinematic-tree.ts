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
 *
 * Coordinates are MuJoCo's: qpos [nq] and qvel [nv], each joint at MuJoCo's own addresses. A hinge
 * or slide has one of each; a ball joint four (unit quaternion w, x, y, z of the child frame in the
 * parent's) and three (angular velocity in the child frame); a free joint seven (world position,
 * then the quaternion) and six (world linear velocity of the body's origin, then angular velocity
 * in the body frame). A tree of hinges and slides has nq = nv, qpos index = dof index.
 */
export interface KinematicTree {
  /** The model's name (MJCF `model` attribute or the file's name). */
  readonly name: string;
  /** The file it was read from, for messages. */
  readonly source: string;

  readonly nodeCount: number;
  /** [n] parent node, -1 = world. */
  readonly parent: readonly number[];
  /** [n] JOINT_NONE | JOINT_HINGE | JOINT_SLIDE | JOINT_BALL | JOINT_FREE. */
  readonly jointType: readonly number[];
  /** [n] the node's first dof (index into qvel; JOINT_DOFS[type] of them), -1 for a node without a joint. */
  readonly dof: readonly number[];
  /** [n] the node's first position coordinate (index into qpos; JOINT_QPOS[type] of them), -1 without a joint. */
  readonly qposAdr: readonly number[];
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

  /** Position coordinates (qpos): 1 per hinge or slide, 4 per ball, 7 per free joint. */
  readonly nq: number;
  /** Velocity coordinates, dofs (qvel): 1 per hinge or slide, 3 per ball, 6 per free joint. */
  readonly nv: number;
  /** [nj] the joints' names, in MuJoCo's order (state names: see treeStateNames). */
  readonly jointNames: readonly string[];
  /** [nj] the node each joint moves. */
  readonly jointNode: readonly number[];
  /** [nq] true for a hinge without a range: an angle that wraps (fed to learners as sin/cos). */
  readonly wraps: readonly boolean[];
  /** [nq] qpos at the reference configuration: a hinge turns by q - qpos0, a slide moves by q - qpos0. */
  readonly qpos0: readonly number[];
  /** [nv] viscous damping, N m s/rad or N s/m. */
  readonly damping: readonly number[];
  /** [nv] reflected rotor inertia added to the joint-space inertia's diagonal. */
  readonly armature: readonly number[];
  /** [nv] joint spring stiffness (hinges and slides; 0 on ball and free dofs) and [nq] its rest position. */
  readonly stiffness: readonly number[];
  readonly springRef: readonly number[];
  /** [nv] dry friction force or torque (smoothed: see articulated-body.ts). */
  readonly frictionloss: readonly number[];
  /**
   * [nq, 2] the range of each position coordinate where MuJoCo limits it ([-Infinity, Infinity]
   * where not, and on every ball and free coordinate). The model does not enforce it (the plant's
   * limit constraint is unmodelled, named at start-up): costs keep plans inside, and the session
   * reports how far a plant went past it.
   */
  readonly jointRange: readonly number[];
  /** [nv, 2] clamp of the total joint-transmission actuator force at the dof ([-Infinity, Infinity] where none). */
  readonly actuatorForceRange: readonly number[];

  /** Actuators on hinge or slide joints and on sites, in MuJoCo's order: actions are their controls. */
  readonly nu: number;
  readonly actuatorNames: readonly string[];
  /** [nu] the dof a joint actuator drives; -1 for a site actuator. */
  readonly actuatorDof: readonly number[];
  /** [nu] transmission gear of a joint actuator: joint force = gear * actuator force, actuator length = gear * q (0 for a site actuator). */
  readonly gear: readonly number[];
  /**
   * Site actuators (MuJoCo's `site` transmission without a refsite): [nu] the node whose frame
   * holds the site (-1 for a joint actuator, or a site on the world: no force), [nu, 3] the site's
   * position and [nu, 4] orientation in that frame, [nu, 6] the gear: force (x, y, z) then torque
   * (x, y, z) per unit actuator force, along the site's axes. Length is 0, velocity is
   * gear . (site velocity, site angular velocity) in the site frame, as MuJoCo's.
   */
  readonly actuatorSiteNode: readonly number[];
  readonly actuatorSitePos: readonly number[];
  readonly actuatorSiteQuat: readonly number[];
  readonly actuatorWrench: readonly number[];
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
export const JOINT_BALL = 3;
export const JOINT_FREE = 4;
/** Per joint type: its qpos and qvel coordinates. */
export const JOINT_QPOS: readonly number[] = [0, 1, 1, 4, 7];
export const JOINT_DOFS: readonly number[] = [0, 1, 1, 3, 6];

/** True where the tree has a ball or free joint (nq != nv, quaternions in the state). */
export function hasQuaternions(tree: KinematicTree): boolean {
  return tree.jointType.some((t) => t === JOINT_BALL || t === JOINT_FREE);
}

/** True where the tree has site actuators. */
export function hasSiteActuators(tree: KinematicTree): boolean {
  return tree.actuatorDof.some((d) => d < 0);
}

/**
 * The state names of a tree: [qpos (nq), qvel (nv)]. A hinge or slide `j` is `j` and `j_dot`
 * (exactly as before ball and free joints were modelled); a ball joint `j_qw, j_qx, j_qy, j_qz`
 * and `j_wx, j_wy, j_wz` (child frame); a free joint `j_x, j_y, j_z, j_qw, j_qx, j_qy, j_qz` and
 * `j_vx, j_vy, j_vz` (world) then `j_wx, j_wy, j_wz` (body frame).
 */
export function treeStateNames(tree: KinematicTree): string[] {
  const positions = new Array<string>(tree.nq);
  const velocities = new Array<string>(tree.nv);
  tree.jointNames.forEach((name, j) => {
    const i = tree.jointNode[j]!;
    const qa = tree.qposAdr[i]!;
    const da = tree.dof[i]!;
    const type = tree.jointType[i]!;
    const pos = type === JOINT_BALL ? ['qw', 'qx', 'qy', 'qz'] : type === JOINT_FREE ? ['x', 'y', 'z', 'qw', 'qx', 'qy', 'qz'] : [];
    const vel = type === JOINT_BALL ? ['wx', 'wy', 'wz'] : type === JOINT_FREE ? ['vx', 'vy', 'vz', 'wx', 'wy', 'wz'] : [];
    if (pos.length === 0) {
      positions[qa] = name;
      velocities[da] = `${name}_dot`;
    } else {
      pos.forEach((c, e) => (positions[qa + e] = `${name}_${c}`));
      vel.forEach((c, e) => (velocities[da + e] = `${name}_${c}`));
    }
  });
  return [...positions, ...velocities];
}

/** Per state: true where the state is a wrapping angle (only hinge positions wrap; quaternion components do not). */
export function treeAngular(tree: KinematicTree): boolean[] {
  return [...tree.wraps, ...new Array<boolean>(tree.nv).fill(false)];
}

/**
 * [nquat, 2] per unit quaternion of the state: its index (w) in qpos and the index in qvel of its
 * body-frame angular velocity (x), for the integrators (ContinuousDynamics.quaternions).
 */
export function treeQuaternions(tree: KinematicTree): number[] {
  const out: number[] = [];
  for (let i = 0; i < tree.nodeCount; i++) {
    const type = tree.jointType[i]!;
    if (type === JOINT_BALL) out.push(tree.qposAdr[i]!, tree.dof[i]!);
    else if (type === JOINT_FREE) out.push(tree.qposAdr[i]! + 3, tree.dof[i]! + 3);
  }
  return out;
}
