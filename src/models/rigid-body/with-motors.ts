import { MpcdError } from '../../core/errors.js';
import { JOINT_HINGE, JOINT_NONE, JOINT_SLIDE, type KinematicTree } from './kinematic-tree.js';

/**
 * The tree with a torque (or force) motor added on each named joint: action `<joint>_motor` in
 * [-1, 1], joint force = gear * action. URDF has no actuators, so this is how a URDF robot gets
 * its actions; an MJCF may use it for joints its file leaves unactuated.
 */
export function withMotors(tree: KinematicTree, motors: Readonly<Record<string, number>>, path: string): KinematicTree {
  const entries = Object.entries(motors);
  if (entries.length === 0) return tree;
  const errors: string[] = [];
  const added = { names: [] as string[], dofs: [] as number[], gears: [] as number[] };
  for (const [joint, gear] of entries) {
    const j = tree.jointNames.indexOf(joint);
    const node = j < 0 ? -1 : tree.jointNode[j]!;
    const type = node < 0 ? JOINT_NONE : tree.jointType[node]!;
    const dof = type === JOINT_HINGE || type === JOINT_SLIDE ? tree.dof[node]! : -1;
    const name = `${joint}_motor`;
    if (dof < 0) errors.push(`${path}.${joint}: no hinge or slide joint "${joint}" in ${tree.source}; its hinge and slide joints: ${tree.jointNames.filter((_, k) => { const t = tree.jointType[tree.jointNode[k]!]; return t === JOINT_HINGE || t === JOINT_SLIDE; }).join(', ')}`);
    else if (tree.actuatorNames.includes(name)) errors.push(`${path}.${joint}: the file already has an actuator named ${name}`);
    else {
      added.names.push(name);
      added.dofs.push(dof);
      added.gears.push(gear);
    }
  }
  if (errors.length > 0) throw new MpcdError('CONFIG_INVALID', `${errors.length} error(s) in ${path}`, errors);
  const n = added.names.length;
  return {
    ...tree,
    nu: tree.nu + n,
    actuatorNames: [...tree.actuatorNames, ...added.names],
    actuatorDof: [...tree.actuatorDof, ...added.dofs],
    gear: [...tree.gear, ...added.gears],
    actuatorSiteNode: [...tree.actuatorSiteNode, ...added.names.map(() => -1)],
    actuatorSitePos: [...tree.actuatorSitePos, ...added.names.flatMap(() => [0, 0, 0])],
    actuatorSiteQuat: [...tree.actuatorSiteQuat, ...added.names.flatMap(() => [1, 0, 0, 0])],
    actuatorWrench: [...tree.actuatorWrench, ...added.names.flatMap(() => [0, 0, 0, 0, 0, 0])],
    gain: [...tree.gain, ...added.names.flatMap(() => [1, 0, 0])],
    bias: [...tree.bias, ...added.names.flatMap(() => [0, 0, 0])],
    ctrlRange: [...tree.ctrlRange, ...added.names.flatMap(() => [-1, 1])],
    forceRange: [...tree.forceRange, ...added.names.flatMap(() => [-Infinity, Infinity])],
  };
}
