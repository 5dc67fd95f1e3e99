import type { KinematicTree, TreePoint } from './kinematic-tree.js';
import { TreeKinematics } from './tree-kinematics.js';

/** The six values each point adds, in order: world position and its velocity. */
export const POINT_COMPONENTS = ['x', 'y', 'z', 'x_dot', 'y_dot', 'z_dot'] as const;

/**
 * Batched forward kinematics of named points (sites and bodies) of a tree: for each sample and
 * point, its world position and velocity (velocity = V_lin + V_ang x r of its node). The planner's
 * costs read them as `<point>_x`, ..., `<point>_z_dot`.
 */
export class PointKinematics {
  private readonly kin: TreeKinematics;
  private readonly node: Int32Array; // [np]
  private readonly local: Float64Array; // [np, 3] position in its node's frame

  constructor(tree: KinematicTree, readonly points: readonly TreePoint[]) {
    this.kin = new TreeKinematics(tree);
    this.node = Int32Array.from(points.map((p) => p.node));
    this.local = Float64Array.from(points.flatMap((p) => [...p.pos]));
  }

  /**
   * states [count, nq + nv] -> out[k * stride + offset + 6 * j + c] for point j and component c of
   * POINT_COMPONENTS.
   */
  compute(states: Float32Array, count: number, out: Float32Array, stride: number, offset: number): void {
    const { kin, node, local } = this;
    const nx = kin.nq + kin.nv;
    const { R, P, V } = kin;
    for (let k = 0; k < count; k++) {
      kin.update(states, k * nx);
      for (let j = 0; j < node.length; j++) {
        const i = node[j]!;
        const lx = local[3 * j]!;
        const ly = local[3 * j + 1]!;
        const lz = local[3 * j + 2]!;
        const o = k * stride + offset + 6 * j;
        if (i < 0) {
          // On the world body: fixed.
          out[o] = lx; out[o + 1] = ly; out[o + 2] = lz;
          out[o + 3] = 0; out[o + 4] = 0; out[o + 5] = 0;
          continue;
        }
        const r9 = 9 * i;
        const x = P[3 * i]! + R[r9]! * lx + R[r9 + 1]! * ly + R[r9 + 2]! * lz;
        const y = P[3 * i + 1]! + R[r9 + 3]! * lx + R[r9 + 4]! * ly + R[r9 + 5]! * lz;
        const z = P[3 * i + 2]! + R[r9 + 6]! * lx + R[r9 + 7]! * ly + R[r9 + 8]! * lz;
        const s6 = 6 * i;
        const wx = V[s6]!;
        const wy = V[s6 + 1]!;
        const wz = V[s6 + 2]!;
        out[o] = x;
        out[o + 1] = y;
        out[o + 2] = z;
        out[o + 3] = V[s6 + 3]! + wy * z - wz * y;
        out[o + 4] = V[s6 + 4]! + wz * x - wx * z;
        out[o + 5] = V[s6 + 5]! + wx * y - wy * x;
      }
    }
  }
}
