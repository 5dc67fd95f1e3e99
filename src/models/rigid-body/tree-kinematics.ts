import { JOINT_HINGE, JOINT_NONE, JOINT_SLIDE, type KinematicTree } from './kinematic-tree.js';
import { quatToMatrix } from './rotation.js';

/**
 * Forward kinematics of one sample of a kinematic tree, in the world frame: every node's pose,
 * its joint's motion subspace and its spatial velocity. What the articulated-body algorithm's
 * first pass and the cost's points both need. Scratch is allocated once, here; `update` fills it.
 *
 * Spatial motion vectors are [angular; linear] about the world origin, so the velocity of a world
 * point r on node i is V_lin + V_ang x r.
 */
export class TreeKinematics {
  readonly n: number;
  readonly nq: number;
  readonly parent: Int32Array;
  readonly type: Int32Array;
  readonly dofOf: Int32Array;
  /** [n, 3, 3] row-major, each node's frame in the world. */
  readonly R: Float64Array;
  /** [n, 3] each node's origin in the world. */
  readonly P: Float64Array;
  /** [n, 6] each node's joint motion subspace (unset for a node without a joint). */
  readonly S: Float64Array;
  /** [n, 6] each node's spatial velocity. */
  readonly V: Float64Array;
  /** [n] each node's joint velocity (0 without a joint). */
  readonly qd: Float64Array;

  private readonly offR: Float64Array; // [n, 3, 3] node frame in parent frame at qpos0
  private readonly offP: Float64Array; // [n, 3]
  private readonly axis: Float64Array; // [n, 3] in the node frame
  private readonly anchor: Float64Array; // [n, 3] in the node frame
  private readonly qpos0: Float64Array; // [nq]
  private readonly rot = new Float64Array(9);
  private readonly tmp = new Float64Array(9);

  constructor(tree: KinematicTree) {
    const n = tree.nodeCount;
    this.n = n;
    this.nq = tree.nq;
    this.parent = Int32Array.from(tree.parent);
    this.type = Int32Array.from(tree.jointType);
    this.dofOf = Int32Array.from(tree.dof);
    this.offR = new Float64Array(9 * n);
    for (let i = 0; i < n; i++) this.offR.set(quatToMatrix(tree.quat.slice(4 * i, 4 * i + 4)), 9 * i);
    this.offP = Float64Array.from(tree.pos);
    this.axis = Float64Array.from(tree.axis);
    this.anchor = Float64Array.from(tree.anchor);
    this.qpos0 = Float64Array.from(tree.qpos0);
    this.R = new Float64Array(9 * n);
    this.P = new Float64Array(3 * n);
    this.S = new Float64Array(6 * n);
    this.V = new Float64Array(6 * n);
    this.qd = new Float64Array(n);
  }

  /** Poses, motion subspaces and velocities for the sample whose state [q (nq), q_dot (nq)] starts at states[so]. */
  update(states: ArrayLike<number>, so: number): void {
    const { n, nq, parent, type, dofOf, R, P, S, V, offR, offP, axis, anchor, qpos0, rot, tmp } = this;
    for (let i = 0; i < n; i++) {
      const p = parent[i]!;
      const r9 = 9 * i;
      const p3 = 3 * i;
      const s6 = 6 * i;
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
      const jt = type[i]!;
      let qd = 0;
      if (jt !== JOINT_NONE) {
        const d = dofOf[i]!;
        const delta = states[so + d]! - qpos0[d]!;
        qd = states[so + nq + d]!;
        const kx = axis[p3]!;
        const ky = axis[p3 + 1]!;
        const kz = axis[p3 + 2]!;
        // World axis (a joint's axis is the same before and after its own motion).
        const wx = R[r9]! * kx + R[r9 + 1]! * ky + R[r9 + 2]! * kz;
        const wy = R[r9 + 3]! * kx + R[r9 + 4]! * ky + R[r9 + 5]! * kz;
        const wz = R[r9 + 6]! * kx + R[r9 + 7]! * ky + R[r9 + 8]! * kz;
        if (jt === JOINT_HINGE) {
          const lx = anchor[p3]!;
          const ly = anchor[p3 + 1]!;
          const lz = anchor[p3 + 2]!;
          // World anchor, fixed by the rotation about it.
          const ax = P[p3]! + R[r9]! * lx + R[r9 + 1]! * ly + R[r9 + 2]! * lz;
          const ay = P[p3 + 1]! + R[r9 + 3]! * lx + R[r9 + 4]! * ly + R[r9 + 5]! * lz;
          const az = P[p3 + 2]! + R[r9 + 6]! * lx + R[r9 + 7]! * ly + R[r9 + 8]! * lz;
          // R = R0 * rot(k, delta) (Rodrigues, local axis), then the origin so the anchor stays.
          const cs = Math.cos(delta);
          const sn = Math.sin(delta);
          const t = 1 - cs;
          rot[0] = cs + t * kx * kx; rot[1] = t * kx * ky - sn * kz; rot[2] = t * kx * kz + sn * ky;
          rot[3] = t * kx * ky + sn * kz; rot[4] = cs + t * ky * ky; rot[5] = t * ky * kz - sn * kx;
          rot[6] = t * kx * kz - sn * ky; rot[7] = t * ky * kz + sn * kx; rot[8] = cs + t * kz * kz;
          for (let e = 0; e < 9; e++) tmp[e] = R[r9 + e]!;
          mul33(tmp, 0, rot, 0, R, r9);
          P[p3] = ax - (R[r9]! * lx + R[r9 + 1]! * ly + R[r9 + 2]! * lz);
          P[p3 + 1] = ay - (R[r9 + 3]! * lx + R[r9 + 4]! * ly + R[r9 + 5]! * lz);
          P[p3 + 2] = az - (R[r9 + 6]! * lx + R[r9 + 7]! * ly + R[r9 + 8]! * lz);
          // S = [w; anchor x w].
          S[s6] = wx; S[s6 + 1] = wy; S[s6 + 2] = wz;
          S[s6 + 3] = ay * wz - az * wy; S[s6 + 4] = az * wx - ax * wz; S[s6 + 5] = ax * wy - ay * wx;
        } else if (jt === JOINT_SLIDE) {
          P[p3] = P[p3]! + wx * delta;
          P[p3 + 1] = P[p3 + 1]! + wy * delta;
          P[p3 + 2] = P[p3 + 2]! + wz * delta;
          S[s6] = 0; S[s6 + 1] = 0; S[s6 + 2] = 0;
          S[s6 + 3] = wx; S[s6 + 4] = wy; S[s6 + 5] = wz;
        }
      }
      this.qd[i] = qd;
      // v = v_parent + S qd.
      for (let e = 0; e < 6; e++) V[s6 + e] = (p < 0 ? 0 : V[6 * p + e]!) + (jt === JOINT_NONE ? 0 : S[s6 + e]! * qd);
    }
  }
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
