import { JOINT_HINGE, JOINT_NONE, JOINT_SLIDE, type KinematicTree } from '../models/rigid-body/kinematic-tree.js';
import { quatToMatrix } from '../models/rigid-body/rotation.js';
import type { ParamBlock } from './param-block.js';

/**
 * Forward kinematics of a kinematic tree in WGSL, unrolled node by node: the statements of
 * TreeKinematics.update (src/models/rigid-body/tree-kinematics.ts) for one sample whose state is
 * the WGSL array `s` [q (nq), q_dot (nq)]. Shared by the articulated-body dynamics
 * (wgsl-rigid-body.ts) and the cost's points (wgsl-points.ts).
 *
 * One departure, as the native float32 kernel makes it (native/kernels/rigid_body_aba.inc): the
 * fixed frame is the world's axes about `origin`, the centroid of the nodes' origins at qpos0,
 * not about the world's origin. It changes nothing beyond rounding (every spatial quantity is
 * about the same point, and a uniform gravity field is the same acceleration about any point),
 * but float32 keeps much more of m |c|^2 - m c c^T and of the anchors' moments that way: for
 * the branching test tree, whose torso sits 1.2 m up, the worst error against MuJoCo is 1.3e-5
 * instead of 7.3e-5.
 *
 * Per node i it binds (every one a `let`, in registers; no arrays):
 *   R_i: mat3x3<f32>   the node's frame in the world (WGSL matrices are column-major; R_i * v
 *                      is the TypeScript's row-major R times v)
 *   x_i: vec3<f32>     the node's origin in the world, less `origin` (TreeKinematics' P - origin)
 *   Sw_i, Sv_i         the joint's motion subspace [angular; linear] (a node with a joint)
 *   qd_i               the joint's velocity (a node with a joint)
 *   vw_i, vv_i         the node's spatial velocity [angular; linear] about `origin`
 * Vectors that are zero by the tree's structure (a slide's angular motion, the velocity of a node
 * welded to the world) are not bound at all: the emitter tracks them as `undefined` and drops
 * the terms they would enter, so no arithmetic is spent on exact zeros.
 */

/** A WGSL vec3<f32> expression, or undefined where the vector is zero by structure. */
export type V3 = string | undefined;

export const add = (a: V3, b: V3): V3 => (a === undefined ? b : b === undefined ? a : `(${a} + ${b})`);
export const sub = (a: V3, b: V3): V3 => (b === undefined ? a : a === undefined ? `(-${b})` : `(${a} - ${b})`);
export const scale = (a: V3, s: string): V3 => (a === undefined ? undefined : `(${a} * ${s})`);
export const cross = (a: V3, b: V3): V3 => (a === undefined || b === undefined ? undefined : `cross(${a}, ${b})`);
/** M * a. */
export const mul = (m: string, a: V3): V3 => (a === undefined ? undefined : `(${m} * ${a})`);
/** transpose(M) * a, written a * M. */
export const mulT = (m: string, a: V3): V3 => (a === undefined ? undefined : `(${a} * ${m})`);
export const dot = (a: V3, b: V3): string | undefined => (a === undefined || b === undefined ? undefined : `dot(${a}, ${b})`);
/** A sum of scalar terms, some structurally zero; '0.0f' when all are. */
export const sum = (...terms: (string | undefined)[]): string => {
  const kept = terms.filter((t): t is string => t !== undefined);
  return kept.length === 0 ? '0.0f' : kept.length === 1 ? kept[0]! : `(${kept.join(' + ')})`;
};
/** The vector, or WGSL's zero vector where it is structurally zero. */
export const orZero = (a: V3): string => a ?? 'vec3<f32>()';

/**
 * The tree's constants as reads of the params buffer, each distinct value in one slot (the tree
 * repeats 0 and 1 a lot). Derived constants (rotation matrices of quaternions, products of axis
 * components) are computed in float64 before they are stored, as the TypeScript computes them
 * once per model.
 */
export class WgslConstants {
  private readonly slots = new Map<string, string>();

  constructor(private readonly block: ParamBlock) {}

  f(value: number): string {
    const key = Object.is(value, -0) ? '-0' : String(value);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.block.ref(value);
      this.slots.set(key, slot);
    }
    return slot;
  }

  v3(v: ArrayLike<number>, offset = 0): string {
    return `vec3<f32>(${this.f(v[offset]!)}, ${this.f(v[offset + 1]!)}, ${this.f(v[offset + 2]!)})`;
  }

  /** A row-major 3x3 as a WGSL matrix (given by its columns). */
  m3(rowMajor: ArrayLike<number>): string {
    const col = (c: number): string => `${this.f(rowMajor[c]!)}, ${this.f(rowMajor[3 + c]!)}, ${this.f(rowMajor[6 + c]!)}`;
    return `mat3x3<f32>(${col(0)}, ${col(1)}, ${col(2)})`;
  }
}

/** What the kinematics emitter bound for node i. */
export interface NodeKinematics {
  readonly R: string;
  readonly x: string;
  readonly Sw: V3;
  readonly Sv: V3;
  readonly qd: string | undefined;
  readonly vw: V3;
  readonly vv: V3;
}

const IDENTITY_QUAT = [1, 0, 0, 0];

/** The centroid of the nodes' origins in the world at qpos0 (float64; [0, 0, 0] for an empty tree). */
export function treeCentroid(tree: KinematicTree): [number, number, number] {
  const n = tree.nodeCount;
  const R: number[][] = []; // [n][9] row-major
  const x: number[][] = []; // [n][3]
  const origin: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const off = quatToMatrix(tree.quat.slice(4 * i, 4 * i + 4));
    const pos = tree.pos.slice(3 * i, 3 * i + 3);
    const p = tree.parent[i]!;
    if (p < 0) {
      R.push(off);
      x.push(pos);
    } else {
      const Rp = R[p]!;
      const row = (r: number, v: (c: number) => number): number => Rp[3 * r]! * v(0) + Rp[3 * r + 1]! * v(1) + Rp[3 * r + 2]! * v(2);
      R.push(Array.from({ length: 9 }, (_, e) => row(Math.floor(e / 3), (c) => off[3 * c + (e % 3)]!)));
      x.push([0, 1, 2].map((r) => x[p]![r]! + row(r, (c) => pos[c]!)));
    }
  }
  for (const xi of x) for (let e = 0; e < 3; e++) origin[e] = origin[e]! + xi[e]! / n;
  return origin;
}

/**
 * The WGSL statements (indented for a function body) and the names each node's values are bound
 * to, with positions and spatial vectors about `origin` (world coordinates; treeCentroid).
 */
export function emitTreeKinematics(tree: KinematicTree, k: WgslConstants, origin: readonly number[]): { code: string; nodes: NodeKinematics[] } {
  const lines: string[] = [];
  const nodes: NodeKinematics[] = [];
  const nq = tree.nq;
  for (let i = 0; i < tree.nodeCount; i++) {
    const p = tree.parent[i]!;
    const parent = p < 0 ? undefined : nodes[p]!;
    const quat = tree.quat.slice(4 * i, 4 * i + 4);
    const pos = tree.pos.slice(3 * i, 3 * i + 3);
    // Node frame before its joint: the parent's pose times the fixed offset. An identity offset
    // (a body's second and later joints) leaves the parent's pose as it is, exactly.
    const identity = quat.every((q, e) => q === IDENTITY_QUAT[e]) && pos.every((v) => v === 0);
    let R0: string;
    let x0: string;
    if (parent === undefined) {
      R0 = k.m3(quatToMatrix(quat));
      x0 = k.v3(pos.map((v, e) => v - origin[e]!));
    } else if (identity) {
      R0 = parent.R;
      x0 = parent.x;
    } else {
      lines.push(`  let R0_${i} = ${parent.R} * ${k.m3(quatToMatrix(quat))};`);
      lines.push(`  let x0_${i} = ${parent.x} + ${parent.R} * ${k.v3(pos)};`);
      R0 = `R0_${i}`;
      x0 = `x0_${i}`;
    }
    const type = tree.jointType[i]!;
    if (type === JOINT_NONE) {
      lines.push(`  let R_${i} = ${R0};`, `  let x_${i} = ${x0};`);
      nodes.push({ R: `R_${i}`, x: `x_${i}`, Sw: undefined, Sv: undefined, qd: undefined, vw: parent?.vw, vv: parent?.vv });
      continue;
    }
    const d = tree.dof[i]!;
    const axis = tree.axis.slice(3 * i, 3 * i + 3);
    lines.push(`  let delta_${i} = s[${d}] - ${k.f(tree.qpos0[d]!)};`, `  let qd_${i} = s[${nq + d}];`);
    // World axis (a joint's axis is the same before and after its own motion).
    lines.push(`  let w_${i} = ${R0} * ${k.v3(axis)};`);
    let Sw: V3;
    let Sv: string;
    if (type === JOINT_HINGE) {
      const [kx, ky, kz] = axis as [number, number, number];
      const anchorLocal = tree.anchor.slice(3 * i, 3 * i + 3);
      const anchor = k.v3(anchorLocal);
      // World anchor, fixed by the rotation about it; R = R0 rot(k, delta) (Rodrigues, local
      // axis: cos 1 + sin [k]x + (1 - cos) k k^T, here k k^T + cos (1 - k k^T) + sin [k]x with
      // its two constant matrices made in float64), then the origin so that the anchor stays (a
      // hinge about the node's origin leaves it where it is).
      const outer = [kx * kx, kx * ky, kx * kz, kx * ky, ky * ky, ky * kz, kx * kz, ky * kz, kz * kz];
      const rest = outer.map((v, e) => (e % 4 === 0 ? 1 : 0) - v);
      const skew = [0, -kz, ky, kz, 0, -kx, -ky, kx, 0];
      const centred = anchorLocal.every((v) => v === 0);
      if (centred) lines.push(`  let anchor_${i} = ${x0};`);
      else lines.push(`  let anchor_${i} = ${x0} + ${R0} * ${anchor};`);
      lines.push(
        `  let sc_${i} = mpcd_sincos(delta_${i});`,
        `  let R_${i} = ${R0} * (${k.m3(outer)} + sc_${i}.y * ${k.m3(rest)} + sc_${i}.x * ${k.m3(skew)});`,
        centred ? `  let x_${i} = anchor_${i};` : `  let x_${i} = anchor_${i} - R_${i} * ${anchor};`,
        // S = [w; anchor x w].
        `  let Sv_${i} = cross(anchor_${i}, w_${i});`,
      );
      Sw = `w_${i}`;
      Sv = `Sv_${i}`;
    } else if (type === JOINT_SLIDE) {
      lines.push(`  let R_${i} = ${R0};`, `  let x_${i} = ${x0} + w_${i} * delta_${i};`);
      Sw = undefined;
      Sv = `w_${i}`;
    } else {
      throw new RangeError(`internal: node ${i} of ${tree.source} has joint type ${type}`);
    }
    // v = v_parent + S qd.
    const vw = add(parent?.vw, scale(Sw, `qd_${i}`));
    const vv = add(parent?.vv, scale(Sv, `qd_${i}`));
    if (vw !== undefined) lines.push(`  let vw_${i} = ${vw};`);
    lines.push(`  let vv_${i} = ${vv!};`);
    nodes.push({ R: `R_${i}`, x: `x_${i}`, Sw, Sv, qd: `qd_${i}`, vw: vw === undefined ? undefined : `vw_${i}`, vv: `vv_${i}` });
  }
  return { code: lines.join('\n') + '\n', nodes };
}
