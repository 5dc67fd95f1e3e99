import type { ContinuousDynamics } from '../dynamics.js';
import { articulatedBodyDerivatives, type RigidBodyOptions } from './articulated-body.js';
import { treeAngular, treeStateNames, type KinematicTree } from './kinematic-tree.js';

/**
 * A kinematic tree as continuous dynamics: state [q (nq), q_dot (nq)] named `<joint>` and
 * `<joint>_dot`, actions named after the actuators, hinges without a range as angles.
 */
export function rigidBodyDynamics(tree: KinematicTree, options: RigidBodyOptions): ContinuousDynamics {
  const derivatives = articulatedBodyDerivatives(tree, options);
  return { stateNames: treeStateNames(tree), actionNames: tree.actuatorNames, angular: treeAngular(tree), nq: tree.nq, derivatives };
}

/** The one start-up line naming what the file holds that the model does not represent; undefined when nothing. */
export function unsupportedNotice(tree: KinematicTree): string | undefined {
  if (tree.unsupported.length === 0) return undefined;
  return `${tree.source}: the rigid-body model does not represent ${tree.unsupported.join('; ')}; a residual ensemble (model.residual) learns what they do`;
}
