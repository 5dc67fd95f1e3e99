import { MpcdError } from '../../core/errors.js';
import type { KinematicTree } from './kinematic-tree.js';

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
    const dof = tree.jointNames.indexOf(joint);
    const name = `${joint}_motor`;
    if (dof < 0) errors.push(`${path}.${joint}: no hinge or slide joint "${joint}" in ${tree.source}; its joints: ${tree.jointNames.join(', ')}`);
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
    gain: [...tree.gain, ...added.names.flatMap(() => [1, 0, 0])],
    bias: [...tree.bias, ...added.names.flatMap(() => [0, 0, 0])],
    ctrlRange: [...tree.ctrlRange, ...added.names.flatMap(() => [-1, 1])],
    forceRange: [...tree.forceRange, ...added.names.flatMap(() => [-Infinity, Infinity])],
  };
}
