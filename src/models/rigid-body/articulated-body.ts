import type { DerivativesFn } from '../analytic/robot-descriptor.js';
import { JOINT_NONE, type KinematicTree } from './kinematic-tree.js';
import { mul33, TreeKinematics } from './tree-kinematics.js';

export interface RigidBodyOptions {
  /**
   * Dry friction (MuJoCo's frictionloss, a constraint there) becomes the smooth force
   * -frictionloss * tanh(q_dot / frictionVelocity): within about this speed of rest it fades
   * to zero, so an explicit integrator stays stable. m/s or rad/s.
   */
  readonly frictionVelocity: number;
}

export const DEFAULT_FRICTION_VELOCITY = 0.01;

/**
 * Forward dynamics of a kinematic tree by Featherstone's articulated-body algorithm, written in
 * one fixed frame (the world's axes and origin), so no spatial transform is ever applied: every
 * spatial vector and inertia of every node is summed as it is. Per node i with parent p:
 *
 *   pass 1 (root to leaves): pose, joint motion S_i, v_i = v_p + S_i qd_i, c_i = v_i x S_i qd_i,
 *            I^A_i = I_i, p^A_i = v_i x* I_i v_i
 *   pass 2 (leaves to root): U = I^A S, D = S.U + armature, u = tau - S.p^A,
 *            I^A_p += I^A - U U^T / D,  p^A_p += p^A + (I^A - U U^T / D) c + U u / D
 *   pass 3 (root to leaves): a_0 = -gravity, a' = a_p + c, qdd = (u - U.a') / D, a = a' + S qdd
 *
 * Spatial vectors are [angular; linear] about the world origin (motion) and [moment; force]
 * (force). Joint-space forces tau: actuators (gain and bias affine in the joint's length and
 * velocity, ctrl and force clamps, as MuJoCo computes them), damping, springs and smoothed dry
 * friction. Float64 inside; states [count, 2nq], actions [count, nu], deriv [count, 2nq].
 * Allocates its scratch once, here.
 */
export function articulatedBodyDerivatives(tree: KinematicTree, options: RigidBodyOptions): DerivativesFn {
  const n = tree.nodeCount;
  const nq = tree.nq;
  const nu = tree.nu;
  const nx = 2 * nq;
  const kin = new TreeKinematics(tree);
  const { parent, type, dofOf, R, P, S, V } = kin;
  const mass = Float64Array.from(tree.mass); // [n]
  const com = Float64Array.from(tree.com); // [n, 3]
  const inertia = new Float64Array(9 * n); // [n, 3, 3] about the centre of mass, node frame
  for (let i = 0; i < n; i++) {
    const [xx, yy, zz, xy, xz, yz] = tree.inertia.slice(6 * i, 6 * i + 6) as [number, number, number, number, number, number];
    inertia.set([xx, xy, xz, xy, yy, yz, xz, yz, zz], 9 * i);
  }
  const damping = Float64Array.from(tree.damping);
  const armature = Float64Array.from(tree.armature);
  const stiffness = Float64Array.from(tree.stiffness);
  const springRef = Float64Array.from(tree.springRef);
  const friction = Float64Array.from(tree.frictionloss);
  const actfrc = Float64Array.from(tree.actuatorForceRange); // [nq, 2]
  const actDof = Int32Array.from(tree.actuatorDof);
  const gear = Float64Array.from(tree.gear);
  const gain = Float64Array.from(tree.gain); // [nu, 3]
  const bias = Float64Array.from(tree.bias); // [nu, 3]
  const ctrlRange = Float64Array.from(tree.ctrlRange); // [nu, 2]
  const forceRange = Float64Array.from(tree.forceRange); // [nu, 2]
  const invFrictionVelocity = 1 / options.frictionVelocity;
  const [gx, gy, gz] = tree.gravity;

  // Scratch, per node (poses and velocities live in kin).
  const C = new Float64Array(6 * n); // [n, 6] velocity-product acceleration
  const IA = new Float64Array(36 * n); // [n, 6, 6] articulated inertia, row-major
  const PA = new Float64Array(6 * n); // [n, 6] articulated bias force
  const U = new Float64Array(6 * n); // [n, 6]
  const Dinv = new Float64Array(n);
  const uj = new Float64Array(n);
  const A = new Float64Array(6 * n); // [n, 6] spatial acceleration
  const tau = new Float64Array(nq);
  const Ic = new Float64Array(9);
  const tmp = new Float64Array(9);
  const Iv = new Float64Array(6);

  return (states, actions, deriv, count) => {
    for (let k = 0; k < count; k++) {
      const so = k * nx;
      const ao = k * nu;

      // Joint-space forces: actuators first (their per-joint clamp applies to them alone), then passive.
      tau.fill(0);
      for (let a = 0; a < nu; a++) {
        const d = actDof[a]!;
        const g = gear[a]!;
        const length = g * states[so + d]!;
        const velocity = g * states[so + nq + d]!;
        const ctrl = Math.min(Math.max(actions[ao + a]!, ctrlRange[2 * a]!), ctrlRange[2 * a + 1]!);
        const force = (gain[3 * a]! + gain[3 * a + 1]! * length + gain[3 * a + 2]! * velocity) * ctrl + bias[3 * a]! + bias[3 * a + 1]! * length + bias[3 * a + 2]! * velocity;
        tau[d]! += g * Math.min(Math.max(force, forceRange[2 * a]!), forceRange[2 * a + 1]!);
      }
      for (let d = 0; d < nq; d++) {
        const q = states[so + d]!;
        const qd = states[so + nq + d]!;
        const act = Math.min(Math.max(tau[d]!, actfrc[2 * d]!), actfrc[2 * d + 1]!);
        tau[d] = act - damping[d]! * qd - stiffness[d]! * (q - springRef[d]!) - friction[d]! * Math.tanh(qd * invFrictionVelocity);
      }

      // Pass 1: poses, velocities (TreeKinematics), then body inertias and bias forces.
      kin.update(states, so);
      for (let i = 0; i < n; i++) {
        const r9 = 9 * i;
        const p3 = 3 * i;
        const s6 = 6 * i;
        // c = v x (S qd).
        const qd = kin.qd[i]!;
        if (type[i] === JOINT_NONE) {
          for (let e = 0; e < 6; e++) C[s6 + e] = 0;
        } else {
          crossMotion(V, s6, S[s6]! * qd, S[s6 + 1]! * qd, S[s6 + 2]! * qd, S[s6 + 3]! * qd, S[s6 + 4]! * qd, S[s6 + 5]! * qd, C, s6);
        }
        // Spatial inertia about the world origin, from mass m, centre c (world) and Ic = R Ib R^T.
        const m = mass[i]!;
        const cx = P[p3]! + R[r9]! * com[p3]! + R[r9 + 1]! * com[p3 + 1]! + R[r9 + 2]! * com[p3 + 2]!;
        const cy = P[p3 + 1]! + R[r9 + 3]! * com[p3]! + R[r9 + 4]! * com[p3 + 1]! + R[r9 + 5]! * com[p3 + 2]!;
        const cz = P[p3 + 2]! + R[r9 + 6]! * com[p3]! + R[r9 + 7]! * com[p3 + 1]! + R[r9 + 8]! * com[p3 + 2]!;
        mul33(R, r9, inertia, r9, tmp, 0);
        mul33T(tmp, 0, R, r9, Ic, 0);
        spatialInertia(m, cx, cy, cz, Ic, IA, 36 * i);
        // p^A = v x* (I v).
        matVec6(IA, 36 * i, V, s6, Iv, 0);
        crossForce(V, s6, Iv, PA, s6);
      }

      // Pass 2: articulated inertias and bias forces, leaves to root.
      for (let i = n - 1; i >= 0; i--) {
        const s6 = 6 * i;
        const I36 = 36 * i;
        const p = parent[i]!;
        if (type[i] !== JOINT_NONE) {
          const d = dofOf[i]!;
          matVec6(IA, I36, S, s6, U, s6);
          let D = armature[d]!;
          let sp = 0;
          for (let e = 0; e < 6; e++) {
            D += S[s6 + e]! * U[s6 + e]!;
            sp += S[s6 + e]! * PA[s6 + e]!;
          }
          const inv = 1 / D;
          Dinv[i] = inv;
          uj[i] = tau[d]! - sp;
          if (p < 0) continue;
          // I^a = I^A - U U^T / D (kept in place: node i's IA is not needed again).
          for (let r = 0; r < 6; r++) {
            const ur = U[s6 + r]! * inv;
            for (let col = 0; col < 6; col++) IA[I36 + 6 * r + col]! -= ur * U[s6 + col]!;
          }
          // p^a = p^A + I^a c + U u / D.
          const uu = uj[i]! * inv;
          matVec6(IA, I36, C, s6, Iv, 0);
          for (let e = 0; e < 6; e++) PA[6 * p + e]! += PA[s6 + e]! + Iv[e]! + U[s6 + e]! * uu;
        } else {
          if (p < 0) continue;
          for (let e = 0; e < 6; e++) PA[6 * p + e]! += PA[s6 + e]!; // c = 0 for a welded node
        }
        const P36 = 36 * p;
        for (let e = 0; e < 36; e++) IA[P36 + e]! += IA[I36 + e]!;
      }

      // Pass 3: accelerations, root to leaves; gravity as the world's acceleration upward.
      for (let i = 0; i < n; i++) {
        const s6 = 6 * i;
        const p = parent[i]!;
        for (let e = 0; e < 6; e++) A[s6 + e] = (p < 0 ? (e === 3 ? -gx : e === 4 ? -gy : e === 5 ? -gz : 0) : A[6 * p + e]!) + C[s6 + e]!;
        if (type[i] === JOINT_NONE) continue;
        let ua = 0;
        for (let e = 0; e < 6; e++) ua += U[s6 + e]! * A[s6 + e]!;
        const qdd = (uj[i]! - ua) * Dinv[i]!;
        for (let e = 0; e < 6; e++) A[s6 + e]! += S[s6 + e]! * qdd;
        const d = dofOf[i]!;
        deriv[so + nq + d] = qdd;
      }
      for (let d = 0; d < nq; d++) deriv[so + d] = states[so + nq + d]!;
    }
  };
}

/** out = a * b^T (3x3 row-major). */
function mul33T(a: Float64Array, ao: number, b: Float64Array, bo: number, out: Float64Array, oo: number): void {
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) out[oo + 3 * r + c] = a[ao + 3 * r]! * b[bo + 3 * c]! + a[ao + 3 * r + 1]! * b[bo + 3 * c + 1]! + a[ao + 3 * r + 2]! * b[bo + 3 * c + 2]!;
  }
}

/** The 6x6 spatial inertia about the origin of mass m at centre c with rotational inertia Ic about c. */
function spatialInertia(m: number, cx: number, cy: number, cz: number, Ic: Float64Array, out: Float64Array, o: number): void {
  // [[Ic + m (cx)(cx)^T, m cx], [m cx^T, m 1]], with (cx)(cx)^T = |c|^2 1 - c c^T.
  const c2 = cx * cx + cy * cy + cz * cz;
  out[o] = Ic[0]! + m * (c2 - cx * cx); out[o + 1] = Ic[1]! - m * cx * cy; out[o + 2] = Ic[2]! - m * cx * cz;
  out[o + 6] = Ic[3]! - m * cx * cy; out[o + 7] = Ic[4]! + m * (c2 - cy * cy); out[o + 8] = Ic[5]! - m * cy * cz;
  out[o + 12] = Ic[6]! - m * cx * cz; out[o + 13] = Ic[7]! - m * cy * cz; out[o + 14] = Ic[8]! + m * (c2 - cz * cz);
  // Upper right m [c]x, lower left its transpose.
  out[o + 3] = 0; out[o + 4] = -m * cz; out[o + 5] = m * cy;
  out[o + 9] = m * cz; out[o + 10] = 0; out[o + 11] = -m * cx;
  out[o + 15] = -m * cy; out[o + 16] = m * cx; out[o + 17] = 0;
  out[o + 18] = 0; out[o + 19] = m * cz; out[o + 20] = -m * cy;
  out[o + 24] = -m * cz; out[o + 25] = 0; out[o + 26] = m * cx;
  out[o + 30] = m * cy; out[o + 31] = -m * cx; out[o + 32] = 0;
  out[o + 21] = m; out[o + 22] = 0; out[o + 23] = 0;
  out[o + 27] = 0; out[o + 28] = m; out[o + 29] = 0;
  out[o + 33] = 0; out[o + 34] = 0; out[o + 35] = m;
}

function matVec6(M: Float64Array, mo: number, x: Float64Array, xo: number, out: Float64Array, oo: number): void {
  for (let r = 0; r < 6; r++) {
    const row = mo + 6 * r;
    out[oo + r] = M[row]! * x[xo]! + M[row + 1]! * x[xo + 1]! + M[row + 2]! * x[xo + 2]! + M[row + 3]! * x[xo + 3]! + M[row + 4]! * x[xo + 4]! + M[row + 5]! * x[xo + 5]!;
  }
}

/** out = v x m for motion vectors v = [w; v0], m = [mw; mv]: [w x mw; v0 x mw + w x mv]. */
function crossMotion(V: Float64Array, vo: number, mwx: number, mwy: number, mwz: number, mvx: number, mvy: number, mvz: number, out: Float64Array, oo: number): void {
  const wx = V[vo]!;
  const wy = V[vo + 1]!;
  const wz = V[vo + 2]!;
  const vx = V[vo + 3]!;
  const vy = V[vo + 4]!;
  const vz = V[vo + 5]!;
  out[oo] = wy * mwz - wz * mwy;
  out[oo + 1] = wz * mwx - wx * mwz;
  out[oo + 2] = wx * mwy - wy * mwx;
  out[oo + 3] = vy * mwz - vz * mwy + wy * mvz - wz * mvy;
  out[oo + 4] = vz * mwx - vx * mwz + wz * mvx - wx * mvz;
  out[oo + 5] = vx * mwy - vy * mwx + wx * mvy - wy * mvx;
}

/** out = v x* f for motion v = [w; v0], force f = [n; f0]: [w x n + v0 x f0; w x f0]. */
function crossForce(V: Float64Array, vo: number, f: Float64Array, out: Float64Array, oo: number): void {
  const wx = V[vo]!;
  const wy = V[vo + 1]!;
  const wz = V[vo + 2]!;
  const vx = V[vo + 3]!;
  const vy = V[vo + 4]!;
  const vz = V[vo + 5]!;
  const nx = f[0]!;
  const ny = f[1]!;
  const nz = f[2]!;
  const fx = f[3]!;
  const fy = f[4]!;
  const fz = f[5]!;
  out[oo] = wy * nz - wz * ny + vy * fz - vz * fy;
  out[oo + 1] = wz * nx - wx * nz + vz * fx - vx * fz;
  out[oo + 2] = wx * ny - wy * nx + vx * fy - vy * fx;
  out[oo + 3] = wy * fz - wz * fy;
  out[oo + 4] = wz * fx - wx * fz;
  out[oo + 5] = wx * fy - wy * fx;
}
