import type { MjModel } from 'mujoco-js';
import { Rng } from '../../../src/core/rng.js';
import { hasQuaternions, JOINT_BALL, JOINT_DOFS, JOINT_FREE, JOINT_NONE, type KinematicTree } from '../../../src/models/rigid-body/kinematic-tree.js';
import { loadKinematicTree } from '../../../src/models/rigid-body/load-kinematic-tree.js';
import { getMujoco, type Mujoco } from '../../../src/models/rigid-body/mujoco-runtime.js';

/**
 * A batch of random states and actions for a tree: states [count, nq + nv], actions [count, nu].
 * Hinge and slide coordinates uniform in +/-3 (rad or m) and their velocities in +/-5; a ball or
 * free joint's quaternion uniform on the unit sphere, a free joint's position in +/-3 m, their
 * velocities in +/-5. A tree of hinges and slides draws exactly as it always has.
 */
export function randomBatch(tree: KinematicTree, count: number, seed: number): { states: Float32Array; actions: Float32Array } {
  const rng = new Rng(seed);
  const { nq, nv } = tree;
  const nx = nq + nv;
  const states = new Float32Array(count * nx);
  const actions = new Float32Array(count * tree.nu);
  const scalar = !hasQuaternions(tree);
  for (let k = 0; k < count; k++) {
    if (scalar) {
      for (let d = 0; d < nq; d++) {
        states[k * nx + d] = (2 * rng.uniform() - 1) * 3; // rad, or m for slides
        states[k * nx + nq + d] = (2 * rng.uniform() - 1) * 5;
      }
    } else {
      for (let i = 0; i < tree.nodeCount; i++) {
        const type = tree.jointType[i]!;
        if (type === JOINT_NONE) continue;
        const qa = k * nx + tree.qposAdr[i]!;
        const va = k * nx + nq + tree.dof[i]!;
        const quatAt = type === JOINT_BALL ? qa : type === JOINT_FREE ? qa + 3 : -1;
        if (type === JOINT_FREE) for (let e = 0; e < 3; e++) states[qa + e] = (2 * rng.uniform() - 1) * 3;
        if (quatAt >= 0) {
          const q = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
          const norm = Math.hypot(...q);
          q.forEach((v, e) => (states[quatAt + e] = v / norm));
        } else states[qa] = (2 * rng.uniform() - 1) * 3;
        for (let e = 0; e < JOINT_DOFS[type]!; e++) states[va + e] = (2 * rng.uniform() - 1) * 5;
      }
    }
    for (let a = 0; a < tree.nu; a++) {
      const lo = Math.max(tree.ctrlRange[2 * a]!, -2);
      const hi = Math.min(tree.ctrlRange[2 * a + 1]!, 2);
      // A little beyond the ctrl range, so the clamp is exercised too.
      actions[k * tree.nu + a] = lo + (hi - lo) * (1.2 * rng.uniform() - 0.1);
    }
  }
  return { states, actions };
}

/**
 * MuJoCo's own joint accelerations (mj_forward's qacc) for each state [qpos (nq), qvel (nv)] and
 * action, with every constraint off (contacts, joint limits and frictionloss are constraints in
 * MuJoCo): the smooth dynamics the rigid-body model represents. Needs the tree's coordinates to
 * be MuJoCo's, in order (every joint modelled). `nq` is the caller's check: MuJoCo's nv when the
 * tree has hinges and slides only. Returns [count, nv].
 */
export function mujocoAccelerations(mj: Mujoco, model: MjModel, nq: number, nu: number, states: Float32Array, actions: Float32Array): Float64Array {
  if (model.nq === model.nv && nq !== model.nv) throw new Error(`nq ${nq} but the model has ${model.nv} dofs`);
  const mq = model.nq;
  const nv = model.nv;
  const nx = mq + nv;
  const count = states.length / nx;
  const flags = model.opt.disableflags;
  model.opt.disableflags = flags | mj.mjtDisableBit.mjDSBL_CONSTRAINT.value;
  const data = new mj.MjData(model);
  try {
    const out = new Float64Array(count * nv);
    for (let k = 0; k < count; k++) {
      const qpos = data.qpos as Float64Array;
      const qvel = data.qvel as Float64Array;
      const ctrl = data.ctrl as Float64Array;
      for (let d = 0; d < mq; d++) qpos[d] = states[k * nx + d]!;
      for (let d = 0; d < nv; d++) qvel[d] = states[k * nx + mq + d]!;
      for (let a = 0; a < nu; a++) ctrl[a] = actions[k * nu + a]!;
      mj.mj_forward(model, data);
      out.set((data.qacc as Float64Array).subarray(0, nv), k * nv);
    }
    return out;
  } finally {
    data.delete();
    model.opt.disableflags = flags;
  }
}

/**
 * The worst relative error of `got` [count, stride] (entries offset..offset+nq of each row)
 * against `want` [count, nq]: per sample, the largest absolute difference over the largest
 * magnitude of the reference (at least 1, so near-zero accelerations are judged absolutely).
 */
export function worstRelativeError(got: ArrayLike<number>, stride: number, offset: number, want: Float64Array, nq: number): { error: number; sample: number } {
  const count = want.length / nq;
  let error = 0;
  let sample = -1;
  for (let k = 0; k < count; k++) {
    let scale = 1;
    let diff = 0;
    for (let d = 0; d < nq; d++) scale = Math.max(scale, Math.abs(want[k * nq + d]!));
    for (let d = 0; d < nq; d++) diff = Math.max(diff, Math.abs(got[k * stride + offset + d]! - want[k * nq + d]!));
    if (!(diff / scale <= error)) {
      error = diff / scale;
      sample = k;
    }
  }
  return { error, sample };
}

/** The kinematic tree of an MJCF file, as the config loader reads it. */
export async function readTree(file: string): Promise<KinematicTree> {
  await getMujoco();
  return loadKinematicTree(file);
}

/** The tree with what the MJCFs lack: dry friction on every joint and a per-joint actuator force clamp on the first. */
export function withFrictionAndJointClamp(tree: KinematicTree): KinematicTree {
  const actuatorForceRange = [...tree.actuatorForceRange];
  actuatorForceRange[0] = -3;
  actuatorForceRange[1] = 2.5;
  return { ...tree, frictionloss: tree.frictionloss.map((f, d) => f + 0.05 * (d + 1)), actuatorForceRange };
}
