import { JOINT_BALL, JOINT_FREE, JOINT_HINGE, JOINT_SLIDE, type KinematicTree } from './kinematic-tree.js';
import { quatToMatrixAt } from './quaternion.js';
import { quatToMatrix } from './rotation.js';

/**
 * Forward kinematics of one sample of a kinematic tree, in the world frame: every node's pose,
 * its joint's motion subspace and its spatial velocity. What the articulated-body algorithm's
 * first pass and the cost's points both need. Scratch is allocated once, here; `update` fills it.
 *
 * Spatial motion vectors are [angular; linear] about the world origin, so the velocity of a world
 * point r on node i is V_lin + V_ang x r. Motion subspaces are one column per dof, as MuJoCo's
 * qvel: a ball joint's three are rotations about the child frame's axes through the joint's
 * anchor; a free joint's are translations along the world axes, then rotations about the body
 * frame's axes through its origin.
 */
export class TreeKinematics {
  readonly n: number;
  readonly nq: number;
  readonly nv: number;
  readonly parent: Int32Array;
  readonly type: Int32Array;
  readonly dofOf: Int32Array;
  readonly qposOf: Int32Array;
  /** [n, 3, 3] row-major, each node's frame in the world. */
  readonly R: Float64Array;
  /** [n, 3] each node's origin in the world. */
  readonly P: Float64Array;
  /** [nv, 6] each dof's motion subspace column. */
  readonly S: Float64Array;
  /** [n, 6] each node's spatial velocity. */
  readonly V: Float64Array;
  /**
   * [n, 6] the part of each node's joint velocity S qd whose axes turn with the node (all of it but
   * a free joint's world-fixed translations): the velocity-product acceleration is V x VJ.
   */
  readonly VJ: Float64Array;

  private readonly offR: Float64Array; // [n, 3, 3] node frame in parent frame at qpos0
  private readonly offP: Float64Array; // [n, 3]
  private readonly axis: Float64Array; // [n, 3] in the node frame
  private readonly anchor: Float64Array; // [n, 3] in the node frame
  private readonly qpos0: Float64Array; // [nq]
  private readonly rot = new Float64Array(9);
  private readonly tmp = new Float64Array(9);
  private readonly world = new Float64Array(3); // a joint's anchor in the world frame

  constructor(tree: KinematicTree) {
    const n = tree.nodeCount;
    this.n = n;
    this.nq = tree.nq;
    this.nv = tree.nv;
    this.parent = Int32Array.from(tree.parent);
    this.type = Int32Array.from(tree.jointType);
    this.dofOf = Int32Array.from(tree.dof);
    this.qposOf = Int32Array.from(tree.qposAdr);
    this.offR = new Float64Array(9 * n);
    for (let i = 0; i < n; i++) this.offR.set(quatToMatrix(tree.quat.slice(4 * i, 4 * i + 4)), 9 * i);
    this.offP = Float64Array.from(tree.pos);
    this.axis = Float64Array.from(tree.axis);
    this.anchor = Float64Array.from(tree.anchor);
    this.qpos0 = Float64Array.from(tree.qpos0);
    this.R = new Float64Array(9 * n);
    this.P = new Float64Array(3 * n);
    this.S = new Float64Array(6 * tree.nv);
    this.V = new Float64Array(6 * n);
    this.VJ = new Float64Array(6 * n);
  }

  /** Poses, motion subspaces and velocities for the sample whose state [qpos (nq), qvel (nv)] starts at states[so]. */
  update(states: ArrayLike<number>, so: number): void {
    const { n, nq, parent, type, dofOf, qposOf, R, P, S, V, VJ, offR, offP, axis, anchor, qpos0, rot, tmp, world } = this;
    for (let i = 0; i < n; i++) {
      const p = parent[i]!;
      const r9 = 9 * i;
      const p3 = 3 * i;
      const s6 = 6 * i;
      const jt = type[i]!;
      // Node frame before its joint: parent pose times the fixed offset.
      if (p < 0) {
        for (let e = 0; e < 9; e++) R[r9 + e] = offR[r9 + e]!;
        P[p3] = offP[p3]!;
        P[p3 + 1] = offP[p3 + 1]!;
        P[p3 + 2] = offP[p3 + 2]!;
      } else {
        mul33(R, 9 * p, offR, r9, R, r9);
        const pr = 9 * p;
        const ox = offP[p3]!;
        const oy = offP[p3 + 1]!;
        const oz = offP[p3 + 2]!;
        P[p3] = P[3 * p]! + R[pr]! * ox + R[pr + 1]! * oy + R[pr + 2]! * oz;
        P[p3 + 1] = P[3 * p + 1]! + R[pr + 3]! * ox + R[pr + 4]! * oy + R[pr + 5]! * oz;
        P[p3 + 2] = P[3 * p + 2]! + R[pr + 6]! * ox + R[pr + 7]! * oy + R[pr + 8]! * oz;
      }
      for (let e = 0; e < 6; e++) VJ[s6 + e] = 0;
      if (jt === JOINT_HINGE || jt === JOINT_SLIDE) {
        const d = dofOf[i]!;
        const qa = qposOf[i]!;
        const s = 6 * d;
        const delta = states[so + qa]! - qpos0[qa]!;
        const qd = states[so + nq + d]!;
        const kx = axis[p3]!;
        const ky = axis[p3 + 1]!;
        const kz = axis[p3 + 2]!;
        // World axis (a joint's axis is the same before and after its own motion).
        const wx = R[r9]! * kx + R[r9 + 1]! * ky + R[r9 + 2]! * kz;
        const wy = R[r9 + 3]! * kx + R[r9 + 4]! * ky + R[r9 + 5]! * kz;
        const wz = R[r9 + 6]! * kx + R[r9 + 7]! * ky + R[r9 + 8]! * kz;
        if (jt === JOINT_HINGE) {
          // rot(k, delta), Rodrigues about the local axis.
          const cs = Math.cos(delta);
          const sn = Math.sin(delta);
          const t = 1 - cs;
          rot[0] = cs + t * kx * kx; rot[1] = t * kx * ky - sn * kz; rot[2] = t * kx * kz + sn * ky;
          rot[3] = t * kx * ky + sn * kz; rot[4] = cs + t * ky * ky; rot[5] = t * ky * kz - sn * kx;
          rot[6] = t * kx * kz - sn * ky; rot[7] = t * ky * kz + sn * kx; rot[8] = cs + t * kz * kz;
          rotateAboutAnchor(R, P, i, anchor, rot, tmp, world);
          const ax = world[0]!;
          const ay = world[1]!;
          const az = world[2]!;
          // S = [w; anchor x w].
          S[s] = wx; S[s + 1] = wy; S[s + 2] = wz;
          S[s + 3] = ay * wz - az * wy; S[s + 4] = az * wx - ax * wz; S[s + 5] = ax * wy - ay * wx;
        } else {
          P[p3] = P[p3]! + wx * delta;
          P[p3 + 1] = P[p3 + 1]! + wy * delta;
          P[p3 + 2] = P[p3 + 2]! + wz * delta;
          S[s] = 0; S[s + 1] = 0; S[s + 2] = 0;
          S[s + 3] = wx; S[s + 4] = wy; S[s + 5] = wz;
        }
        for (let e = 0; e < 6; e++) VJ[s6 + e] = S[s + e]! * qd;
      } else if (jt === JOINT_BALL) {
        quatToMatrixAt(states, so + qposOf[i]!, rot, 0);
        rotateAboutAnchor(R, P, i, anchor, rot, tmp, world);
        rotationColumns(R, r9, world[0]!, world[1]!, world[2]!, S, 6 * dofOf[i]!, states, so + nq + dofOf[i]!, VJ, s6);
      } else if (jt === JOINT_FREE) {
        // The pose is the state itself (a free joint's body hangs from the world).
        const qa = so + qposOf[i]!;
        quatToMatrixAt(states, qa + 3, R, r9);
        P[p3] = states[qa]!;
        P[p3 + 1] = states[qa + 1]!;
        P[p3 + 2] = states[qa + 2]!;
        const s = 6 * dofOf[i]!;
        for (let e = 0; e < 18; e++) S[s + e] = 0;
        S[s + 3] = 1; S[s + 10] = 1; S[s + 17] = 1;
        rotationColumns(R, r9, P[p3]!, P[p3 + 1]!, P[p3 + 2]!, S, s + 18, states, so + nq + dofOf[i]! + 3, VJ, s6);
      }
      // v = v_parent + S qd (the free joint's translation adds its linear velocity as it is).
      for (let e = 0; e < 6; e++) V[s6 + e] = (p < 0 ? 0 : V[6 * p + e]!) + VJ[s6 + e]!;
      if (jt === JOINT_FREE) {
        const vo = so + nq + dofOf[i]!;
        V[s6 + 3]! += states[vo]!;
        V[s6 + 4]! += states[vo + 1]!;
        V[s6 + 5]! += states[vo + 2]!;
      }
    }
  }
}

/**
 * Three rotation dofs about the columns of the node frame R (world) through the world point a:
 * S_k = [r_k; a x r_k] at S[so + 6k..], and their joint velocity sum_k S_k w_k into VJ[vo..] for
 * the angular velocity w (node frame) at states[wo..wo+3].
 */
/**
 * Turns node i's frame (R [n, 9], P [n, 3]) by `rot` [9], a rotation in its own frame, about its
 * joint's anchor (anchor [n, 3], local): the anchor stays where it is in the world, which is
 * written to `world` [3]. `tmp` [9] is scratch. Hinges and ball joints both turn this way.
 */
function rotateAboutAnchor(R: Float64Array, P: Float64Array, i: number, anchor: ArrayLike<number>, rot: Float64Array, tmp: Float64Array, world: Float64Array): void {
  const r9 = 9 * i;
  const p3 = 3 * i;
  const lx = anchor[p3]!;
  const ly = anchor[p3 + 1]!;
  const lz = anchor[p3 + 2]!;
  world[0] = P[p3]! + R[r9]! * lx + R[r9 + 1]! * ly + R[r9 + 2]! * lz;
  world[1] = P[p3 + 1]! + R[r9 + 3]! * lx + R[r9 + 4]! * ly + R[r9 + 5]! * lz;
  world[2] = P[p3 + 2]! + R[r9 + 6]! * lx + R[r9 + 7]! * ly + R[r9 + 8]! * lz;
  for (let e = 0; e < 9; e++) tmp[e] = R[r9 + e]!;
  mul33(tmp, 0, rot, 0, R, r9);
  P[p3] = world[0] - (R[r9]! * lx + R[r9 + 1]! * ly + R[r9 + 2]! * lz);
  P[p3 + 1] = world[1] - (R[r9 + 3]! * lx + R[r9 + 4]! * ly + R[r9 + 5]! * lz);
  P[p3 + 2] = world[2] - (R[r9 + 6]! * lx + R[r9 + 7]! * ly + R[r9 + 8]! * lz);
}

function rotationColumns(
  R: Float64Array, r9: number, ax: number, ay: number, az: number, S: Float64Array, so: number,
  states: ArrayLike<number>, wo: number, VJ: Float64Array, vo: number,
): void {
  const w0 = states[wo]!;
  const w1 = states[wo + 1]!;
  const w2 = states[wo + 2]!;
  for (let k = 0; k < 3; k++) {
    const rx = R[r9 + k]!;
    const ry = R[r9 + 3 + k]!;
    const rz = R[r9 + 6 + k]!;
    const s = so + 6 * k;
    S[s] = rx; S[s + 1] = ry; S[s + 2] = rz;
    S[s + 3] = ay * rz - az * ry; S[s + 4] = az * rx - ax * rz; S[s + 5] = ax * ry - ay * rx;
  }
  // World angular velocity R w; its linear part about the origin is a x (R w).
  const ox = R[r9]! * w0 + R[r9 + 1]! * w1 + R[r9 + 2]! * w2;
  const oy = R[r9 + 3]! * w0 + R[r9 + 4]! * w1 + R[r9 + 5]! * w2;
  const oz = R[r9 + 6]! * w0 + R[r9 + 7]! * w1 + R[r9 + 8]! * w2;
  VJ[vo] = ox; VJ[vo + 1] = oy; VJ[vo + 2] = oz;
  VJ[vo + 3] = ay * oz - az * oy; VJ[vo + 4] = az * ox - ax * oz; VJ[vo + 5] = ax * oy - ay * ox;
}

/** out[o..] = a[ao..] * b[bo..] (3x3 row-major); out may alias neither input. */
export function mul33(a: Float64Array, ao: number, b: Float64Array, bo: number, out: Float64Array, oo: number): void {
  for (let r = 0; r < 3; r++) {
    const a0 = a[ao + 3 * r]!;
    const a1 = a[ao + 3 * r + 1]!;
    const a2 = a[ao + 3 * r + 2]!;
    out[oo + 3 * r] = a0 * b[bo]! + a1 * b[bo + 3]! + a2 * b[bo + 6]!;
    out[oo + 3 * r + 1] = a0 * b[bo + 1]! + a1 * b[bo + 4]! + a2 * b[bo + 7]!;
    out[oo + 3 * r + 2] = a0 * b[bo + 2]! + a1 * b[bo + 5]! + a2 * b[bo + 8]!;
  }
}
