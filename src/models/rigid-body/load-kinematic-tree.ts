import { readKinematicTree } from './read-kinematic-tree.js';
import type { KinematicTree } from './kinematic-tree.js';
import { loadMjcfNow, mujocoNow } from './mujoco-runtime.js';

/**
 * Compiles a robot's MJCF or URDF file with MuJoCo (the same compiler the simulator uses) and
 * reads its kinematic tree; MuJoCo must be instantiated (await getMujoco() first). Throws
 * MpcdError SIM_MJCF with MuJoCo's own message (file and line) where MuJoCo rejects the file.
 */
export function loadKinematicTree(path: string): KinematicTree {
  const mj = mujocoNow();
  const model = loadMjcfNow(path);
  try {
    return readKinematicTree(mj, model, path);
  } finally {
    model.delete();
  }
}
