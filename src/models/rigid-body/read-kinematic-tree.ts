import type { MjModel } from 'mujoco-js';
import { JOINT_BALL, JOINT_FREE, JOINT_HINGE, JOINT_NONE, JOINT_SLIDE, type KinematicTree, type TreePoint } from './kinematic-tree.js';
import type { Mujoco } from './mujoco-runtime.js';
import { quatToMatrix } from './rotation.js';

type Num = ArrayLike<number>;

/**
 * Reads the kinematic tree out of a compiled MuJoCo model: MuJoCo's compiler has already resolved
 * defaults, `fromto`s, inertias from geoms (`inertiafromgeom`), URDF origins and units, so the
 * numbers here are exactly the ones `mj_forward` uses. What the model holds that the rigid-body
 * model does not represent is listed in `unsupported`, never dropped silently.
 */
export function readKinematicTree(mj: Mujoco, model: MjModel, source: string): KinematicTree {
  const hinge = mj.mjtJoint.mjJNT_HINGE.value;
  const slide = mj.mjtJoint.mjJNT_SLIDE.value;
  const ball = mj.mjtJoint.mjJNT_BALL.value;
  const free = mj.mjtJoint.mjJNT_FREE.value;
  const { mjOBJ_BODY, mjOBJ_JOINT, mjOBJ_ACTUATOR, mjOBJ_SITE, mjOBJ_TENDON } = mj.mjtObj;
  const name = (type: { value: number }, id: number, fallback: string): string => mj.mj_id2name(model, type.value, id) || fallback;
  const dsbl = mj.mjtDisableBit;
  const disabled = (bit: { value: number }): boolean => (model.opt.disableflags & bit.value) !== 0;

  const bodyParent = model.body_parentid as Num;
  const bodyPos = model.body_pos as Num;
  const bodyQuat = model.body_quat as Num;
  const bodyIpos = model.body_ipos as Num;
  const bodyIquat = model.body_iquat as Num;
  const bodyMass = model.body_mass as Num;
  const bodyInertia = model.body_inertia as Num;
  const bodyJntAdr = model.body_jntadr as Num;
  const bodyJntNum = model.body_jntnum as Num;
  const bodyGravcomp = model.body_gravcomp as Num;
  const jntType = model.jnt_type as Num;
  const jntAxis = model.jnt_axis as Num;
  const jntPos = model.jnt_pos as Num;
  const jntQposAdr = model.jnt_qposadr as Num;
  const jntDofAdr = model.jnt_dofadr as Num;
  const jntLimited = model.jnt_limited as Num;
  const jntRange = model.jnt_range as Num;
  const jntStiffness = model.jnt_stiffness as Num;
  const jntActfrcLimited = model.jnt_actfrclimited as Num;
  const jntActfrcRange = model.jnt_actfrcrange as Num;
  const qpos0 = model.qpos0 as Num;
  const qposSpring = model.qpos_spring as Num;
  const dofDamping = model.dof_damping as Num;
  const dofArmature = model.dof_armature as Num;
  const dofFrictionloss = model.dof_frictionloss as Num;

  const unsupported: string[] = [];
  const nodeOfBody = new Int32Array(model.nbody).fill(-1);
  const dofOfJoint = new Int32Array(model.njnt).fill(-1); // scalar joints only: what joint actuators drive
  const t = {
    parent: [] as number[], jointType: [] as number[], dof: [] as number[], qposAdr: [] as number[], pos: [] as number[], quat: [] as number[],
    axis: [] as number[], anchor: [] as number[], mass: [] as number[], com: [] as number[], inertia: [] as number[],
  };
  // Per qpos [nq] and per dof [nv], at MuJoCo's own addresses.
  const q = {
    wraps: new Array<boolean>(model.nq).fill(false), qpos0: Array.from({ length: model.nq }, (_, i) => qpos0[i]!),
    springRef: Array.from({ length: model.nq }, (_, i) => qposSpring[i]!), jointRange: new Array<number>(2 * model.nq),
    damping: Array.from({ length: model.nv }, (_, i) => (disabled(dsbl.mjDSBL_DAMPER) ? 0 : dofDamping[i]!)),
    armature: Array.from({ length: model.nv }, (_, i) => dofArmature[i]!),
    frictionloss: Array.from({ length: model.nv }, (_, i) => (disabled(dsbl.mjDSBL_FRICTIONLOSS) ? 0 : dofFrictionloss[i]!)),
    stiffness: new Array<number>(model.nv).fill(0), actuatorForceRange: new Array<number>(2 * model.nv),
  };
  for (let i = 0; i < model.nq; i++) q.jointRange.splice(2 * i, 2, -Infinity, Infinity);
  for (let i = 0; i < model.nv; i++) q.actuatorForceRange.splice(2 * i, 2, -Infinity, Infinity);
  const joints = { jointNames: [] as string[], jointNode: [] as number[] };
  const limitedJoints: string[] = [];
  const limitsOff = disabled(dsbl.mjDSBL_LIMIT);

  for (let b = 1; b < model.nbody; b++) {
    const bodyJoints: number[] = [];
    for (let j = bodyJntAdr[b]!; j < bodyJntAdr[b]! + bodyJntNum[b]!; j++) bodyJoints.push(j);
    const parentNode = nodeOfBody[bodyParent[b]!]!; // -1 for the world
    const nodes = Math.max(1, bodyJoints.length);
    for (let k = 0; k < nodes; k++) {
      const first = k === 0;
      const last = k === nodes - 1;
      const i = t.parent.length;
      t.parent.push(first ? parentNode : i - 1);
      t.pos.push(...(first ? [bodyPos[3 * b]!, bodyPos[3 * b + 1]!, bodyPos[3 * b + 2]!] : [0, 0, 0]));
      t.quat.push(...(first ? normalizedQuat(bodyQuat, 4 * b) : [1, 0, 0, 0]));
      const j = bodyJoints[k];
      if (j === undefined) {
        t.jointType.push(JOINT_NONE);
        t.dof.push(-1);
        t.qposAdr.push(-1);
        t.axis.push(0, 0, 1);
        t.anchor.push(0, 0, 0);
      } else {
        const type = jntType[j]!;
        const jointName = name(mjOBJ_JOINT, j, `joint${j}`);
        const qa = jntQposAdr[j]!;
        const da = jntDofAdr[j]!;
        const scalar = type === hinge || type === slide;
        t.jointType.push(type === hinge ? JOINT_HINGE : type === slide ? JOINT_SLIDE : type === ball ? JOINT_BALL : JOINT_FREE);
        t.dof.push(da);
        t.qposAdr.push(qa);
        t.axis.push(jntAxis[3 * j]!, jntAxis[3 * j + 1]!, jntAxis[3 * j + 2]!);
        t.anchor.push(...(type === free ? [0, 0, 0] : [jntPos[3 * j]!, jntPos[3 * j + 1]!, jntPos[3 * j + 2]!]));
        joints.jointNames.push(jointName);
        joints.jointNode.push(i);
        const limited = jntLimited[j] !== 0 && !limitsOff;
        if (limited) limitedJoints.push(jointName);
        if (scalar) {
          dofOfJoint[j] = da;
          q.wraps[qa] = type === hinge && jntLimited[j] === 0;
          if (limited) q.jointRange.splice(2 * qa, 2, jntRange[2 * j]!, jntRange[2 * j + 1]!);
          q.stiffness[da] = disabled(dsbl.mjDSBL_SPRING) ? 0 : jntStiffness[j]!;
          if (jntActfrcLimited[j]) q.actuatorForceRange.splice(2 * da, 2, jntActfrcRange[2 * j]!, jntActfrcRange[2 * j + 1]!);
        } else {
          const kind = type === ball ? 'ball' : 'free';
          if (jntStiffness[j] !== 0 && !disabled(dsbl.mjDSBL_SPRING)) unsupported.push(`the spring on ${kind} joint ${jointName}`);
          if (jntActfrcLimited[j]) unsupported.push(`the actuator force range of ${kind} joint ${jointName}`);
          if (type === free && parentNode >= 0) unsupported.push(`free joint ${jointName} in a body that is not a child of the world`);
          // MuJoCo takes a ball joint's axes from its body's final frame: only the same as ours where no joint follows it.
          if (type === ball && !last) unsupported.push(`ball joint ${jointName} followed by further joints in its body`);
        }
      }
      t.mass.push(last ? bodyMass[b]! : 0);
      t.com.push(...(last ? [bodyIpos[3 * b]!, bodyIpos[3 * b + 1]!, bodyIpos[3 * b + 2]!] : [0, 0, 0]));
      t.inertia.push(...(last ? inertiaInFrame(normalizedQuat(bodyIquat, 4 * b), [bodyInertia[3 * b]!, bodyInertia[3 * b + 1]!, bodyInertia[3 * b + 2]!]) : [0, 0, 0, 0, 0, 0]));
      if (last) nodeOfBody[b] = i;
    }
    if (bodyGravcomp[b] !== 0) unsupported.push(`gravity compensation on body ${name(mjOBJ_BODY, b, `#${b}`)}`);
  }
  if (limitedJoints.length > 0) unsupported.push(`joint limits on ${limitedJoints.join(', ')}`);

  const actuators = readActuators(mj, model, dofOfJoint, nodeOfBody, disabled(dsbl.mjDSBL_CLAMPCTRL), disabled(dsbl.mjDSBL_ACTUATION), unsupported);

  if (actuators.actuatorDof.some((d) => d < 0) && q.actuatorForceRange.some((r) => Number.isFinite(r))) {
    unsupported.push('joint actuator force ranges on the forces of site actuators (they clamp joint actuators only)');
  }

  const points: TreePoint[] = [];
  const sitePos = model.site_pos as Num;
  const siteBody = model.site_bodyid as Num;
  // Sites are points here: their orientation is not needed.
  for (let s = 0; s < model.nsite; s++) {
    const siteName = mj.mj_id2name(model, mjOBJ_SITE.value, s);
    if (!siteName) continue;
    points.push({ name: siteName, kind: 'site', node: nodeOfBody[siteBody[s]!]!, pos: [sitePos[3 * s]!, sitePos[3 * s + 1]!, sitePos[3 * s + 2]!] });
  }
  for (let b = 1; b < model.nbody; b++) {
    const bodyName = mj.mj_id2name(model, mjOBJ_BODY.value, b);
    if (bodyName) points.push({ name: bodyName, kind: 'body', node: nodeOfBody[b]!, pos: [0, 0, 0] });
  }

  if (model.ntendon > 0) {
    const names = Array.from({ length: model.ntendon }, (_, i) => name(mjOBJ_TENDON, i, `#${i}`));
    unsupported.push(`tendon${names.length > 1 ? 's' : ''} ${names.join(', ')}`);
  }
  if (model.neq > 0) unsupported.push(`${model.neq} equality constraint${model.neq > 1 ? 's' : ''}`);
  if (!disabled(dsbl.mjDSBL_CONTACT) && !disabled(dsbl.mjDSBL_CONSTRAINT)) {
    if (model.npair > 0) unsupported.push(`${model.npair} contact pair${model.npair > 1 ? 's' : ''}`);
    const colliding = collidingGeomPairs(model);
    if (colliding > 0) unsupported.push(`contacts (${colliding} pair${colliding > 1 ? 's' : ''} of geoms can collide)`);
  }
  if (model.nflex > 0) unsupported.push(`${model.nflex} flex object${model.nflex > 1 ? 's' : ''}`);
  if (model.opt.density > 0 || model.opt.viscosity > 0) unsupported.push('fluid forces (option density/viscosity)');

  const g = model.opt.gravity as Num;
  const gravity: [number, number, number] = disabled(dsbl.mjDSBL_GRAVITY) ? [0, 0, 0] : [g[0]!, g[1]!, g[2]!];
  return {
    name: modelName(model) || source.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, ''),
    source,
    nodeCount: t.parent.length,
    ...t,
    nq: model.nq,
    nv: model.nv,
    ...joints,
    ...q,
    ...actuators,
    gravity,
    points,
    unsupported,
  };
}

interface Actuators {
  nu: number;
  actuatorNames: string[];
  actuatorDof: number[];
  gear: number[];
  actuatorSiteNode: number[];
  actuatorSitePos: number[];
  actuatorSiteQuat: number[];
  actuatorWrench: number[];
  gain: number[];
  bias: number[];
  ctrlRange: number[];
  forceRange: number[];
}

function readActuators(
  mj: Mujoco,
  model: MjModel,
  dofOfJoint: Int32Array,
  nodeOfBody: Int32Array,
  noCtrlClamp: boolean,
  actuationOff: boolean,
  unsupported: string[],
): Actuators {
  const trnType = model.actuator_trntype as Num;
  const trnId = model.actuator_trnid as Num;
  const dynType = model.actuator_dyntype as Num;
  const gainType = model.actuator_gaintype as Num;
  const biasType = model.actuator_biastype as Num;
  const gainPrm = model.actuator_gainprm as Num;
  const biasPrm = model.actuator_biasprm as Num;
  const gearAll = model.actuator_gear as Num;
  const ctrlLimited = model.actuator_ctrllimited as Num;
  const ctrlRange = model.actuator_ctrlrange as Num;
  const forceLimited = model.actuator_forcelimited as Num;
  const forceRange = model.actuator_forcerange as Num;
  const siteBody = model.site_bodyid as Num;
  const sitePos = model.site_pos as Num;
  const siteQuat = model.site_quat as Num;
  const prm = gainPrm.length / Math.max(1, model.nu); // mjNGAIN (10 in MuJoCo 3)
  const bprm = biasPrm.length / Math.max(1, model.nu);
  const jointTrn: readonly number[] = [mj.mjtTrn.mjTRN_JOINT.value, mj.mjtTrn.mjTRN_JOINTINPARENT.value];
  const siteTrn = mj.mjtTrn.mjTRN_SITE.value;
  const fixedGain = mj.mjtGain.mjGAIN_FIXED.value;
  const affineGain = mj.mjtGain.mjGAIN_AFFINE.value;
  const noBias = mj.mjtBias.mjBIAS_NONE.value;
  const affineBias = mj.mjtBias.mjBIAS_AFFINE.value;
  const noDynamics = mj.mjtDyn.mjDYN_NONE.value;

  const out: Actuators = {
    nu: 0, actuatorNames: [], actuatorDof: [], gear: [], actuatorSiteNode: [], actuatorSitePos: [], actuatorSiteQuat: [], actuatorWrench: [],
    gain: [], bias: [], ctrlRange: [], forceRange: [],
  };
  const skipped: string[] = [];
  for (let a = 0; a < model.nu; a++) {
    const name = mj.mj_id2name(model, mj.mjtObj.mjOBJ_ACTUATOR.value, a) || `actuator${a}`;
    const dof = jointTrn.includes(trnType[a]!) ? (dofOfJoint[trnId[2 * a]!] ?? -1) : -1;
    // A site transmission with a reference site measures a length between two sites: not modelled.
    const site = trnType[a] === siteTrn && trnId[2 * a + 1] === -1 ? trnId[2 * a]! : -1;
    const why =
      dof < 0 && site < 0 ? 'not on a hinge or slide joint, nor on a site without a refsite'
      : dynType[a] !== noDynamics ? 'has activation dynamics'
      : gainType[a] !== fixedGain && gainType[a] !== affineGain ? 'has a muscle or user gain'
      : biasType[a] !== noBias && biasType[a] !== affineBias ? 'has a muscle or user bias'
      : undefined;
    if (why !== undefined) {
      skipped.push(`${name} (${why})`);
      continue;
    }
    const affine = gainType[a] === affineGain;
    const biased = biasType[a] === affineBias;
    const scale = actuationOff ? 0 : 1;
    out.actuatorNames.push(name);
    out.actuatorDof.push(dof);
    if (site < 0) {
      out.gear.push(gearAll[6 * a]!);
      out.actuatorSiteNode.push(-1);
      out.actuatorSitePos.push(0, 0, 0);
      out.actuatorSiteQuat.push(1, 0, 0, 0);
      out.actuatorWrench.push(0, 0, 0, 0, 0, 0);
    } else {
      out.gear.push(0);
      out.actuatorSiteNode.push(nodeOfBody[siteBody[site]!]!);
      out.actuatorSitePos.push(sitePos[3 * site]!, sitePos[3 * site + 1]!, sitePos[3 * site + 2]!);
      out.actuatorSiteQuat.push(...normalizedQuat(siteQuat, 4 * site));
      for (let e = 0; e < 6; e++) out.actuatorWrench.push(gearAll[6 * a + e]!);
    }
    out.gain.push(scale * gainPrm[prm * a]!, affine ? scale * gainPrm[prm * a + 1]! : 0, affine ? scale * gainPrm[prm * a + 2]! : 0);
    out.bias.push(...(biased ? [scale * biasPrm[bprm * a]!, scale * biasPrm[bprm * a + 1]!, scale * biasPrm[bprm * a + 2]!] : [0, 0, 0]));
    out.ctrlRange.push(...(ctrlLimited[a] && !noCtrlClamp ? [ctrlRange[2 * a]!, ctrlRange[2 * a + 1]!] : [-Infinity, Infinity]));
    out.forceRange.push(...(forceLimited[a] ? [forceRange[2 * a]!, forceRange[2 * a + 1]!] : [-Infinity, Infinity]));
  }
  out.nu = out.actuatorNames.length;
  if (skipped.length > 0) unsupported.push(`actuator${skipped.length > 1 ? 's' : ''} ${skipped.join(', ')} (no action: the planner cannot use ${skipped.length > 1 ? 'them' : 'it'})`);
  return out;
}

/** Geom pairs on different bodies, neither welded to the other, whose contype/conaffinity bits meet. */
function collidingGeomPairs(model: MjModel): number {
  const contype = model.geom_contype as Num;
  const conaffinity = model.geom_conaffinity as Num;
  const geomBody = model.geom_bodyid as Num;
  const weld = model.body_weldid as Num;
  const parent = model.body_parentid as Num;
  let pairs = 0;
  for (let i = 0; i < model.ngeom; i++) {
    for (let j = i + 1; j < model.ngeom; j++) {
      if ((contype[i]! & conaffinity[j]!) === 0 && (contype[j]! & conaffinity[i]!) === 0) continue;
      const wi = weld[geomBody[i]!]!;
      const wj = weld[geomBody[j]!]!;
      // MuJoCo never collides geoms of one welded body, nor (by default) a body with its parent
      // unless that parent is the world (a free body over a floor does collide with it).
      if (wi === wj || (wi !== 0 && wj !== 0 && (weld[parent[wi]!] === wj || weld[parent[wj]!] === wi))) continue;
      pairs += 1;
    }
  }
  return pairs;
}

/** The model's own name: MuJoCo stores it first in its names buffer. */
function modelName(model: MjModel): string {
  const names = model.names as Int8Array;
  let end = 0;
  while (end < names.length && names[end] !== 0) end++;
  return new TextDecoder().decode(new Uint8Array(names.buffer, names.byteOffset, end));
}

function normalizedQuat(a: Num, o: number): number[] {
  const w = a[o]!;
  const x = a[o + 1]!;
  const y = a[o + 2]!;
  const z = a[o + 3]!;
  const n = Math.hypot(w, x, y, z) || 1;
  return [w / n, x / n, y / n, z / n];
}

/** R diag(d) R^T for the rotation of unit quaternion `quat`, as xx, yy, zz, xy, xz, yz. */
function inertiaInFrame(quat: number[], d: [number, number, number]): number[] {
  const r = quatToMatrix(quat);
  const e = (i: number, j: number): number => r[3 * i]! * d[0] * r[3 * j]! + r[3 * i + 1]! * d[1] * r[3 * j + 1]! + r[3 * i + 2]! * d[2] * r[3 * j + 2]!;
  return [e(0, 0), e(1, 1), e(2, 2), e(0, 1), e(0, 2), e(1, 2)];
}
