import type { DerivativesFn } from '../analytic/robot-descriptor.js';
import { JOINT_BALL, JOINT_DOFS, JOINT_FREE, JOINT_NONE, type KinematicTree } from './kinematic-tree.js';
import { quatRate } from './quaternion.js';
import { SiteActuators } from './site-actuators.js';
import { invertSpd } from './small-inverse.js';
import { crossForce, crossMotion, matVec6, mul33T, spatialInertia } from './spatial.js';
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
 * spatial vector and inertia of every node is summed as it is. Per node i with parent p and its
 * joint's motion subspace S (6 x nd: 1 column for a hinge or slide, 3 for a ball, 6 for a free
 * joint, one per dof as MuJoCo's qvel):
 *
 *   pass 1 (root to leaves): pose, S_i, v_i = v_p + S_i qd_i, c_i = v_i x (S_i qd_i)' (the part
 *            of S qd whose axes turn with the node: all of it but a free joint's world-fixed
 *            translations), I^A_i = I_i, p^A_i = v_i x* I_i v_i - f_ext_i (site actuators)
 *   pass 2 (leaves to root): U = I^A S, D = S^T U + armature (nd x nd), u = tau - S^T p^A,
 *            I^A_p += I^A - U D^-1 U^T,  p^A_p += p^A + (I^A - U D^-1 U^T) c + U D^-1 u
 *   pass 3 (root to leaves): a_0 = -gravity, a' = a_p + c, qdd = D^-1 (u - U^T a'), a = a' + S qdd
 *
 * Spatial vectors are [angular; linear] about the world origin (motion) and [moment; force]
 * (force). Joint-space forces tau: joint actuators (gain and bias affine in the joint's length and
 * velocity, ctrl and force clamps, as MuJoCo computes them), damping, springs and smoothed dry
 * friction; site actuators act as external wrenches on their nodes (site-actuators.ts).
 * Float64 inside; states [count, nq + nv] = [qpos, qvel], actions [count, nu], deriv
 * [count, nq + nv] = [d/dt qpos, qacc] with d/dt of a quaternion 1/2 q (x) (0, w).
 * Allocates its scratch once, here.
 */
export function articulatedBodyDerivatives(tree: KinematicTree, options: RigidBodyOptions): DerivativesFn {
  const n = tree.nodeCount;
  const nq = tree.nq;
  const nv = tree.nv;
  const nu = tree.nu;
  const nx = nq + nv;
  const kin = new TreeKinematics(tree);
  const { parent, type, dofOf, qposOf, R, P, S, V, VJ } = kin;
  const ndof = Int32Array.from(tree.jointType, (t) => JOINT_DOFS[t]!); // [n]
  const mass = Float64Array.from(tree.mass); // [n]
  const com = Float64Array.from(tree.com); // [n, 3]
  const inertia = new Float64Array(9 * n); // [n, 3, 3] about the centre of mass, node frame
  for (let i = 0; i < n; i++) {
    const [xx, yy, zz, xy, xz, yz] = tree.inertia.slice(6 * i, 6 * i + 6) as [number, number, number, number, number, number];
    inertia.set([xx, xy, xz, xy, yy, yz, xz, yz, zz], 9 * i);
  }
  // [nv] the qpos index of a hinge's or slide's dof (springs need its position), -1 on ball and free dofs.
  const dofQpos = new Int32Array(nv).fill(-1);
  for (let i = 0; i < n; i++) if (ndof[i] === 1) dofQpos[dofOf[i]!] = qposOf[i]!;
  const damping = Float64Array.from(tree.damping);
  const armature = Float64Array.from(tree.armature);
  const stiffness = Float64Array.from(tree.stiffness);
  const springRef = Float64Array.from(tree.springRef);
  const friction = Float64Array.from(tree.frictionloss);
  const actfrc = Float64Array.from(tree.actuatorForceRange); // [nv, 2]
  const actDof = Int32Array.from(tree.actuatorDof);
  const actQpos = Int32Array.from(tree.actuatorDof, (d) => (d < 0 ? -1 : dofQpos[d]!));
  const gear = Float64Array.from(tree.gear);
  const gain = Float64Array.from(tree.gain); // [nu, 3]
  const bias = Float64Array.from(tree.bias); // [nu, 3]
  const ctrlRange = Float64Array.from(tree.ctrlRange); // [nu, 2]
  const forceRange = Float64Array.from(tree.forceRange); // [nu, 2]
  const sites = new SiteActuators(tree);
  const invFrictionVelocity = 1 / options.frictionVelocity;
  const [gx, gy, gz] = tree.gravity;

  // Scratch, per node (poses and velocities live in kin).
  const C = new Float64Array(6 * n); // [n, 6] velocity-product acceleration
  const IA = new Float64Array(36 * n); // [n, 6, 6] articulated inertia, row-major
  const PA = new Float64Array(6 * n); // [n, 6] articulated bias force
  const U = new Float64Array(6 * nv); // [nv, 6] I^A S, one column per dof
  const Dinv = new Float64Array(n); // [n] 1 / D of a one-dof node
  const DinvM = new Float64Array(36 * n); // [n, nd, nd] D^-1 of a ball (3x3) or free (6x6) node
  const uj = new Float64Array(nv); // [nv]
  const A = new Float64Array(6 * n); // [n, 6] spatial acceleration
  const tau = new Float64Array(nv);
  const Ic = new Float64Array(9);
  const tmp = new Float64Array(9);
  const Iv = new Float64Array(6);
  const Dm = new Float64Array(36); // one multi-dof node's D
  const work = new Float64Array(36);
  const W = new Float64Array(36); // [6, nd] U D^-1 of one multi-dof node
  const ud = new Float64Array(6); // D^-1 u, or u - U^T a'

  const actuatorForce = (a: number, length: number, velocity: number, action: number): number => {
    const ctrl = Math.min(Math.max(action, ctrlRange[2 * a]!), ctrlRange[2 * a + 1]!);
    const force = (gain[3 * a]! + gain[3 * a + 1]! * length + gain[3 * a + 2]! * velocity) * ctrl + bias[3 * a]! + bias[3 * a + 1]! * length + bias[3 * a + 2]! * velocity;
    return Math.min(Math.max(force, forceRange[2 * a]!), forceRange[2 * a + 1]!);
  };

  return (states, actions, deriv, count) => {
    for (let k = 0; k < count; k++) {
      const so = k * nx;
      const vo = so + nq;
      const ao = k * nu;

      // Joint-space forces: joint actuators first (their per-joint clamp applies to them alone), then passive.
      tau.fill(0);
      for (let a = 0; a < nu; a++) {
        const d = actDof[a]!;
        if (d < 0) continue;
        const g = gear[a]!;
        tau[d]! += g * actuatorForce(a, g * states[so + actQpos[a]!]!, g * states[vo + d]!, actions[ao + a]!);
      }
      for (let d = 0; d < nv; d++) {
        const qa = dofQpos[d]!;
        const spring = qa < 0 ? 0 : stiffness[d]! * (states[so + qa]! - springRef[qa]!);
        const qd = states[vo + d]!;
        const act = Math.min(Math.max(tau[d]!, actfrc[2 * d]!), actfrc[2 * d + 1]!);
        tau[d] = act - damping[d]! * qd - spring - friction[d]! * Math.tanh(qd * invFrictionVelocity);
      }

      // Pass 1: poses, velocities (TreeKinematics), then body inertias and bias forces.
      kin.update(states, so);
      for (let i = 0; i < n; i++) {
        const r9 = 9 * i;
        const p3 = 3 * i;
        const s6 = 6 * i;
        if (type[i] === JOINT_NONE) {
          for (let e = 0; e < 6; e++) C[s6 + e] = 0;
        } else {
          crossMotion(V, s6, VJ[s6]!, VJ[s6 + 1]!, VJ[s6 + 2]!, VJ[s6 + 3]!, VJ[s6 + 4]!, VJ[s6 + 5]!, C, s6);
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
      // Site actuators: p^A -= f_ext on their nodes.
      if (sites.count > 0) {
        sites.update(kin);
        for (let s = 0; s < sites.count; s++) {
          const i = sites.node[s]!;
          if (i < 0) continue;
          const f = actuatorForce(sites.actuator[s]!, 0, sites.velocity[s]!, actions[ao + sites.actuator[s]!]!);
          for (let e = 0; e < 6; e++) PA[6 * i + e]! -= f * sites.unit[6 * s + e]!;
        }
      }

      // Pass 2: articulated inertias and bias forces, leaves to root.
      for (let i = n - 1; i >= 0; i--) {
        const s6 = 6 * i;
        const I36 = 36 * i;
        const p = parent[i]!;
        const nd = ndof[i]!;
        if (nd === 1) {
          const d = dofOf[i]!;
          const d6 = 6 * d;
          matVec6(IA, I36, S, d6, U, d6);
          let D = armature[d]!;
          let sp = 0;
          for (let e = 0; e < 6; e++) {
            D += S[d6 + e]! * U[d6 + e]!;
            sp += S[d6 + e]! * PA[s6 + e]!;
          }
          const inv = 1 / D;
          Dinv[i] = inv;
          uj[d] = tau[d]! - sp;
          if (p < 0) continue;
          // I^a = I^A - U U^T / D (kept in place: node i's IA is not needed again).
          for (let r = 0; r < 6; r++) {
            const ur = U[d6 + r]! * inv;
            for (let col = 0; col < 6; col++) IA[I36 + 6 * r + col]! -= ur * U[d6 + col]!;
          }
          // p^a = p^A + I^a c + U u / D.
          const uu = uj[d]! * inv;
          matVec6(IA, I36, C, s6, Iv, 0);
          for (let e = 0; e < 6; e++) PA[6 * p + e]! += PA[s6 + e]! + Iv[e]! + U[d6 + e]! * uu;
        } else if (nd > 1) {
          const d0 = dofOf[i]!;
          for (let a = 0; a < nd; a++) matVec6(IA, I36, S, 6 * (d0 + a), U, 6 * (d0 + a));
          // D = S^T U + armature, u = tau - S^T p^A.
          for (let a = 0; a < nd; a++) {
            const sa = 6 * (d0 + a);
            let sp = 0;
            for (let e = 0; e < 6; e++) sp += S[sa + e]! * PA[s6 + e]!;
            uj[d0 + a] = tau[d0 + a]! - sp;
            for (let b = 0; b < nd; b++) {
              const ub = 6 * (d0 + b);
              let v = a === b ? armature[d0 + a]! : 0;
              for (let e = 0; e < 6; e++) v += S[sa + e]! * U[ub + e]!;
              Dm[nd * a + b] = v;
            }
          }
          invertSpd(Dm, 0, nd, DinvM, I36, work);
          if (p < 0) continue;
          // W = U D^-1 (6 x nd), then I^a = I^A - W U^T and p^a = p^A + I^a c + W u.
          for (let r = 0; r < 6; r++) {
            for (let b = 0; b < nd; b++) {
              let v = 0;
              for (let a = 0; a < nd; a++) v += U[6 * (d0 + a) + r]! * DinvM[I36 + nd * a + b]!;
              W[nd * r + b] = v;
            }
          }
          for (let r = 0; r < 6; r++) {
            for (let col = 0; col < 6; col++) {
              let v = 0;
              for (let b = 0; b < nd; b++) v += W[nd * r + b]! * U[6 * (d0 + b) + col]!;
              IA[I36 + 6 * r + col]! -= v;
            }
          }
          matVec6(IA, I36, C, s6, Iv, 0);
          for (let e = 0; e < 6; e++) {
            let wu = 0;
            for (let b = 0; b < nd; b++) wu += W[nd * e + b]! * uj[d0 + b]!;
            PA[6 * p + e]! += PA[s6 + e]! + Iv[e]! + wu;
          }
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
        const nd = ndof[i]!;
        if (nd === 0) continue;
        const d0 = dofOf[i]!;
        if (nd === 1) {
          const d6 = 6 * d0;
          let ua = 0;
          for (let e = 0; e < 6; e++) ua += U[d6 + e]! * A[s6 + e]!;
          const qdd = (uj[d0]! - ua) * Dinv[i]!;
          for (let e = 0; e < 6; e++) A[s6 + e]! += S[d6 + e]! * qdd;
          deriv[vo + d0] = qdd;
          continue;
        }
        for (let a = 0; a < nd; a++) {
          let ua = 0;
          for (let e = 0; e < 6; e++) ua += U[6 * (d0 + a) + e]! * A[s6 + e]!;
          ud[a] = uj[d0 + a]! - ua;
        }
        for (let a = 0; a < nd; a++) {
          let qdd = 0;
          for (let b = 0; b < nd; b++) qdd += DinvM[36 * i + nd * a + b]! * ud[b]!;
          deriv[vo + d0 + a] = qdd;
        }
        for (let a = 0; a < nd; a++) {
          const qdd = deriv[vo + d0 + a]!;
          for (let e = 0; e < 6; e++) A[s6 + e]! += S[6 * (d0 + a) + e]! * qdd;
        }
      }
      writePositionRates(type, qposOf, dofOf, states, so, nq, deriv);
    }
  };
}

/**
 * d/dt qpos into deriv[so..so+nq]: a hinge's or slide's velocity; a ball's 1/2 q (x) (0, w); a free
 * joint's linear velocity, then its quaternion's rate.
 */
function writePositionRates(type: Int32Array, qposOf: Int32Array, dofOf: Int32Array, states: Float32Array, so: number, nq: number, deriv: Float32Array): void {
  const vo = so + nq;
  for (let i = 0; i < type.length; i++) {
    const jt = type[i]!;
    if (jt === JOINT_NONE) continue;
    const qa = so + qposOf[i]!;
    const da = vo + dofOf[i]!;
    if (jt === JOINT_BALL) quatRate(states, qa, states[da]!, states[da + 1]!, states[da + 2]!, deriv, qa);
    else if (jt === JOINT_FREE) {
      deriv[qa] = states[da]!;
      deriv[qa + 1] = states[da + 1]!;
      deriv[qa + 2] = states[da + 2]!;
      quatRate(states, qa + 3, states[da + 3]!, states[da + 4]!, states[da + 5]!, deriv, qa + 3);
    } else deriv[qa] = states[da]!;
  }
}
