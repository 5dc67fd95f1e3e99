import { hasQuaternions, type KinematicTree, type TreePoint } from '../models/rigid-body/kinematic-tree.js';
import type { ParamBlock } from './param-block.js';
import { add, cross, emitTreeKinematics, orZero, treeCentroid, WgslConstants } from './wgsl-tree-kinematics.js';

/**
 * The task's points (task.points) in WGSL, as PointKinematics (src/models/rigid-body/
 * point-kinematics.ts) and TaskCost compute them: the row the cost terms see,
 *   fn cost_states(s: array<f32, nx>) -> array<f32, nx + 6 np>   [state | per point x, y, z, x_dot, y_dot, z_dot]
 * by the forward kinematics of the tree (world position R r + x of the point's node, velocity
 * v_lin + w x position). A point on the world body is fixed. The kinematics run about the
 * tree's centroid, as the dynamics' (wgsl-tree-kinematics.ts); positions get it added back last.
 * Undefined for a tree with ball or free joints.
 */
export function emitPointStates(tree: KinematicTree, points: readonly TreePoint[], block: ParamBlock): string | undefined {
  if (hasQuaternions(tree)) return undefined; // ball and free joints: the TypeScript PointKinematics' alone
  const k = new WgslConstants(block);
  const nx = 2 * tree.nq;
  const width = nx + 6 * points.length;
  const origin = treeCentroid(tree);
  const kin = emitTreeKinematics(tree, k, origin);
  const back = k.v3(origin);
  const lines: string[] = [];
  const values: string[] = Array.from({ length: nx }, (_, i) => `s[${i}]`);
  points.forEach((point, j) => {
    if (point.node < 0) {
      lines.push(`  let pt_${j} = ${k.v3(point.pos)};`);
      values.push(`pt_${j}.x`, `pt_${j}.y`, `pt_${j}.z`, '0.0f', '0.0f', '0.0f');
      return;
    }
    const node = kin.nodes[point.node]!;
    lines.push(`  let rel_${j} = ${node.x} + ${node.R} * ${k.v3(point.pos)};`);
    lines.push(`  let pt_${j} = rel_${j} + ${back};`);
    lines.push(`  let ptv_${j} = ${orZero(add(node.vv, cross(node.vw, `rel_${j}`)))};`);
    values.push(`pt_${j}.x`, `pt_${j}.y`, `pt_${j}.z`, `ptv_${j}.x`, `ptv_${j}.y`, `ptv_${j}.z`);
  });
  return /* wgsl */ `
// The cost's row: the state, then the points of task.points (wgsl-points.ts).
fn cost_states(s: array<f32, ${nx}>) -> array<f32, ${width}> {
${kin.code}${lines.join('\n')}
  return array<f32, ${width}>(${values.join(', ')});
}
`;
}
