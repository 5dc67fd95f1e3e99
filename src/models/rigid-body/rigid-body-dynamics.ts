import type { ContinuousDynamics } from '../dynamics.js';
import { articulatedBodyDerivatives, type RigidBodyOptions } from './articulated-body.js';
import { treeAngular, treeQuaternions, treeStateNames, type KinematicTree } from './kinematic-tree.js';

/**
 * A kinematic tree as continuous dynamics: state [qpos (nq), qvel (nv)] named as treeStateNames
 * says (`<joint>` and `<joint>_dot` for hinges and slides), actions named after the actuators,
 * hinges without a range as angles, ball and free joints' quaternions for the integrators to keep unit.
 */
export function rigidBodyDynamics(tree: KinematicTree, options: RigidBodyOptions): ContinuousDynamics {
  const derivatives = articulatedBodyDerivatives(tree, options);
  const quaternions = treeQuaternions(tree);
  return {
    stateNames: treeStateNames(tree),
    actionNames: tree.actuatorNames,
    angular: treeAngular(tree),
    nq: tree.nq,
    ...(tree.nv !== tree.nq ? { nv: tree.nv } : {}),
    ...(quaternions.length > 0 ? { quaternions } : {}),
    derivatives,
  };
}

/** The one start-up line naming what the file holds that the model does not represent; undefined when nothing. */
export function unsupportedNotice(tree: KinematicTree): string | undefined {
  if (tree.unsupported.length === 0) return undefined;
  return `${tree.source}: the rigid-body model does not represent ${tree.unsupported.join('; ')}; a residual ensemble (model.residual) learns what they do`;
}
