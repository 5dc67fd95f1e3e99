import { hasQuaternions, hasSiteActuators, JOINT_NONE, type KinematicTree } from '../models/rigid-body/kinematic-tree.js';
import type { ParamBlock } from './param-block.js';
import { add, cross, dot, emitTreeKinematics, mul, mulT, scale, sum, treeCentroid, WgslConstants, type V3 } from './wgsl-tree-kinematics.js';

/**
 * The articulated-body forward dynamics of a kinematic tree in WGSL, the arithmetic of
 * src/models/rigid-body/articulated-body.ts (the spec) for one sample:
 *   fn dynamics(s: array<f32, 2nq>, a: array<f32, nu>) -> array<f32, 2nq>   ([q_dot, q_ddot])
 * the same three passes in the one fixed (world) frame, the same joint-space forces (actuators
 * with gain, bias, ctrl and force clamps and the per-joint actuator force clamp; damping;
 * springs; dry friction smoothed as -frictionloss * tanh(q_dot / frictionloss_velocity)).
 * Float32 throughout: against MuJoCo's double, the worst relative error over the test MJCFs is
 * about 2e-5 (test/gpu/wgsl-rigid-body.test.ts), as the native float32 kernel's.
 *
 * Undefined (the GPU path then reports the model has no WGSL dynamics) for a tree with ball or free
 * joints or site actuators: those are the TypeScript model's alone.
 *
 * Design: unrolled per node at emit time. Every node's pass-1, pass-2 and pass-3 statements are
 * written out with the tree's constants read through the params buffer (refs, one slot per
 * distinct value), so every value lives in a named `let` (or, for a node whose children add into
 * it, a `var`) of a vec3 or mat3x3: no function-scope arrays at all, no loop, no indexing by a
 * run-time node number, no per-node branches on joint types. The tree's structure is decided
 * here, once per config (the kernel is built per config anyway): terms that are zero by it cost
 * nothing (a slide's angular motion, the velocity-product terms of nodes whose parent is still,
 * massless nodes), nor do identity offsets, hinges about the node's origin or clamps to
 * [-inf, inf]. The price is code size, about 40 lines per node (a 7-hinge arm: ~320 lines),
 * the right trade for the trees a planner runs (up to ~10-20 nodes). A generic loop over the
 * tree read from the params buffer would keep the WGSL small for large trees, but it holds the
 * same values in function-scope arrays ([n, 21..36] floats for the inertias alone) indexed at
 * run time, which GPUs keep in scratch memory rather than registers, and branches on every
 * node's joint type; it is not written.
 *
 * One departure from the spec, as the native float32 kernel's: the fixed frame's origin is the
 * tree's centroid at qpos0 (wgsl-tree-kinematics.ts says why). Articulated inertias are
 * symmetric 6x6 [[IAa, IAb], [IAb^T, IAc]] kept as three mat3x3 blocks; spatial vectors are
 * pairs of vec3 [angular (w); linear (v)].
 */
export function emitRigidBodyDynamics(tree: KinematicTree, frictionVelocity: number, block: ParamBlock): string | undefined {
  // Hinges and slides on joint actuators only: ball and free joints (quaternions) and site actuators are not written in WGSL.
  if (hasQuaternions(tree) || hasSiteActuators(tree)) return undefined;
  const k = new WgslConstants(block);
  const n = tree.nodeCount;
  const nq = tree.nq;
  const nu = tree.nu;
  const nx = 2 * nq;
  if (nq === 0 || nu === 0) throw new RangeError(`internal: ${tree.source} has ${nq} dofs and ${nu} actuators; the kernel needs at least one of each`);
  const lines: string[] = [];
  const emit = (line: string): void => {
    lines.push(`  ${line}`);
  };
  /** Binds a maybe-zero vector to a name: `let name = expr;`, or nothing where it is zero. */
  const bind = (name: string, expr: V3): V3 => {
    if (expr === undefined) return undefined;
    emit(`let ${name} = ${expr};`);
    return name;
  };
  const clampOrNot = (x: string, lo: number, hi: number): string =>
    lo === Number.NEGATIVE_INFINITY && hi === Number.POSITIVE_INFINITY ? x : `mpcd_clamp(${x}, ${k.f(lo)}, ${k.f(hi)})`;

  // Joint-space forces: actuators first (their per-joint clamp applies to them alone), then passive.
  const actuatorForces: string[][] = Array.from({ length: nq }, () => []);
  for (let j = 0; j < nu; j++) {
    const d = tree.actuatorDof[j]!;
    const g = k.f(tree.gear[j]!);
    const gain = (e: number): string => k.f(tree.gain[3 * j + e]!);
    const bias = (e: number): string => k.f(tree.bias[3 * j + e]!);
    emit(`let length_a${j} = ${g} * s[${d}];`);
    emit(`let velocity_a${j} = ${g} * s[${nq + d}];`);
    emit(`let ctrl_a${j} = ${clampOrNot(`a[${j}]`, tree.ctrlRange[2 * j]!, tree.ctrlRange[2 * j + 1]!)};`);
    emit(`let force_a${j} = (${gain(0)} + ${gain(1)} * length_a${j} + ${gain(2)} * velocity_a${j}) * ctrl_a${j} + ${bias(0)} + ${bias(1)} * length_a${j} + ${bias(2)} * velocity_a${j};`);
    emit(`let act_a${j} = ${g} * ${clampOrNot(`force_a${j}`, tree.forceRange[2 * j]!, tree.forceRange[2 * j + 1]!)};`);
    actuatorForces[d]!.push(`act_a${j}`);
  }
  const invFrictionVelocity = k.f(1 / frictionVelocity);
  for (let d = 0; d < nq; d++) {
    const act = clampOrNot(sum(...actuatorForces[d]!), tree.actuatorForceRange[2 * d]!, tree.actuatorForceRange[2 * d + 1]!);
    emit(
      `let tau_${d} = ${act} - ${k.f(tree.damping[d]!)} * s[${nq + d}] - ${k.f(tree.stiffness[d]!)} * (s[${d}] - ${k.f(tree.springRef[d]!)})` +
        ` - ${k.f(tree.frictionloss[d]!)} * mpcd_tanh(s[${nq + d}] * ${invFrictionVelocity});`,
    );
  }

  // Pass 1: poses, velocities (the kinematics emitter), then body inertias and bias forces.
  // About the centroid of the tree at qpos0, not the world's origin (see wgsl-tree-kinematics.ts).
  const kin = emitTreeKinematics(tree, k, treeCentroid(tree));
  lines.push(kin.code.trimEnd());
  const nodes = kin.nodes;
  const hasChildren = Array.from({ length: n }, (_, i) => tree.parent.some((p) => p === i));
  const C: { w: V3; v: V3 }[] = [];
  const IA: { a: string; b: string; c: string }[] = [];
  const PA: { w: V3; v: V3 }[] = [];
  for (let i = 0; i < n; i++) {
    const node = nodes[i]!;
    const p = tree.parent[i]!;
    const parentMoves = p >= 0 && (nodes[p]!.vw !== undefined || nodes[p]!.vv !== undefined);
    // c = v x (S qd): zero without a joint, and zero where the parent is still (v = S qd then).
    if (tree.jointType[i] !== JOINT_NONE && parentMoves) {
      const mw = scale(node.Sw, node.qd!);
      const mv = scale(node.Sv, node.qd!);
      C.push({ w: bind(`cw_${i}`, cross(node.vw, mw)), v: bind(`cv_${i}`, add(cross(node.vv, mw), cross(node.vw, mv))) });
    } else C.push({ w: undefined, v: undefined });
    // Spatial inertia about the world origin, from mass m, centre c (world) and Ic = R Ib R^T:
    // [[Ic + m (|c|^2 1 - c c^T), m [c]x], [m [c]x^T, m 1]]. A massless node (a body's first
    // joints) starts from zero.
    const qualifier = hasChildren[i] ? 'var' : 'let';
    const mass = tree.mass[i]!;
    const inertia = tree.inertia.slice(6 * i, 6 * i + 6);
    if (mass === 0 && inertia.every((v) => v === 0)) {
      for (const b of ['a', 'b', 'c']) emit(`${qualifier} IA${b}_${i} = mat3x3<f32>();`);
      IA.push({ a: `IAa_${i}`, b: `IAb_${i}`, c: `IAc_${i}` });
      PA.push({ w: undefined, v: undefined });
    } else {
      const [xx, yy, zz, xy, xz, yz] = inertia as [number, number, number, number, number, number];
      const m = k.f(mass);
      emit(`let com_${i} = ${node.x} + ${node.R} * ${k.v3(tree.com, 3 * i)};`);
      emit(`let Ic_${i} = ${node.R} * ${k.m3([xx, xy, xz, xy, yy, yz, xz, yz, zz])} * transpose(${node.R});`);
      emit(`${qualifier} IAa_${i} = Ic_${i} + ${m} * (dot(com_${i}, com_${i}) * mat3x3<f32>(1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 1.0f) - rb_outer(com_${i}, com_${i}));`);
      emit(`${qualifier} IAb_${i} = ${m} * rb_skew(com_${i});`);
      emit(`${qualifier} IAc_${i} = ${m} * mat3x3<f32>(1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 1.0f);`);
      IA.push({ a: `IAa_${i}`, b: `IAb_${i}`, c: `IAc_${i}` });
      // p^A = v x* (I v), with I v = [IAa w + IAb v; IAb^T w + m v].
      const nI = bind(`In_${i}`, add(mul(`IAa_${i}`, node.vw), mul(`IAb_${i}`, node.vv)));
      const fI = bind(`If_${i}`, add(mulT(`IAb_${i}`, node.vw), scale(node.vv, m)));
      PA.push({ w: add(cross(node.vw, nI), cross(node.vv, fI)), v: cross(node.vw, fI) });
    }
    const pa = PA[i]!;
    if (hasChildren[i]) {
      emit(`var PAw_${i} = ${pa.w ?? 'vec3<f32>()'};`);
      emit(`var PAv_${i} = ${pa.v ?? 'vec3<f32>()'};`);
      PA[i] = { w: `PAw_${i}`, v: `PAv_${i}` };
    } else PA[i] = { w: bind(`PAw_${i}`, pa.w), v: bind(`PAv_${i}`, pa.v) };
  }

  // Pass 2: articulated inertias and bias forces, leaves to root.
  const U: { w: V3; v: V3 }[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const node = nodes[i]!;
    const p = tree.parent[i]!;
    const ia = IA[i]!;
    const pa = PA[i]!;
    const addToParent = (dw: V3, dv: V3, a: string, b: string, c: string): void => {
      if (dw !== undefined) emit(`PAw_${p} += ${dw};`);
      if (dv !== undefined) emit(`PAv_${p} += ${dv};`);
      emit(`IAa_${p} += ${a};`);
      emit(`IAb_${p} += ${b};`);
      emit(`IAc_${p} += ${c};`);
    };
    if (tree.jointType[i] === JOINT_NONE) {
      U[i] = { w: undefined, v: undefined };
      if (p >= 0) addToParent(pa.w, pa.v, ia.a, ia.b, ia.c); // c = 0 for a welded node
      continue;
    }
    const d = tree.dof[i]!;
    // U = I^A S, D = S.U + armature, u = tau - S.p^A.
    const Uw = bind(`Uw_${i}`, add(mul(ia.a, node.Sw), mul(ia.b, node.Sv)));
    const Uv = bind(`Uv_${i}`, add(mulT(ia.b, node.Sw), mul(ia.c, node.Sv)));
    U[i] = { w: Uw, v: Uv };
    emit(`let Dinv_${i} = 1.0f / (${k.f(tree.armature[d]!)} + ${sum(dot(node.Sw, Uw), dot(node.Sv, Uv))});`);
    emit(`let u_${i} = tau_${d} - ${sum(dot(node.Sw, pa.w), dot(node.Sv, pa.v))};`);
    if (p < 0) continue;
    // I^a = I^A - U U^T / D;  p^a = p^A + I^a c + U u / D.
    const outer = (a: V3, b: V3): string => (a === undefined || b === undefined ? '' : ` - rb_outer(${a} * Dinv_${i}, ${b})`);
    emit(`let Iaa_${i} = ${ia.a}${outer(Uw, Uw)};`);
    emit(`let Iab_${i} = ${ia.b}${outer(Uw, Uv)};`);
    emit(`let Iac_${i} = ${ia.c}${outer(Uv, Uv)};`);
    emit(`let uu_${i} = u_${i} * Dinv_${i};`);
    const c = C[i]!;
    const Icw = add(mul(`Iaa_${i}`, c.w), mul(`Iab_${i}`, c.v));
    const Icv = add(mulT(`Iab_${i}`, c.w), mul(`Iac_${i}`, c.v));
    addToParent(add(add(pa.w, Icw), scale(Uw, `uu_${i}`)), add(add(pa.v, Icv), scale(Uv, `uu_${i}`)), `Iaa_${i}`, `Iab_${i}`, `Iac_${i}`);
  }

  // Pass 3: accelerations, root to leaves; gravity as the world's acceleration upward.
  const [gx, gy, gz] = tree.gravity;
  const up = k.v3([-gx, -gy, -gz]);
  const A: { w: V3; v: V3 }[] = [];
  const qddOfDof: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = tree.parent[i]!;
    const node = nodes[i]!;
    const c = C[i]!;
    const aw = add(p < 0 ? undefined : A[p]!.w, c.w);
    const av = add(p < 0 ? up : A[p]!.v, c.v);
    if (tree.jointType[i] === JOINT_NONE) {
      A.push(hasChildren[i] ? { w: bind(`aw_${i}`, aw), v: bind(`av_${i}`, av) } : { w: undefined, v: undefined });
      continue;
    }
    const apw = bind(`apw_${i}`, aw);
    const apv = bind(`apv_${i}`, av);
    const u = U[i]!;
    emit(`let qdd_${i} = (u_${i} - ${sum(dot(u.w, apw), dot(u.v, apv))}) * Dinv_${i};`);
    qddOfDof[tree.dof[i]!] = `qdd_${i}`;
    if (hasChildren[i]) A.push({ w: bind(`aw_${i}`, add(apw, scale(node.Sw, `qdd_${i}`))), v: bind(`av_${i}`, add(apv, scale(node.Sv, `qdd_${i}`))) });
    else A.push({ w: undefined, v: undefined });
  }
  for (let d = 0; d < nq; d++) if (qddOfDof[d] === undefined) throw new RangeError(`internal: dof ${d} of ${tree.source} has no node`);
  const derivative = [...Array.from({ length: nq }, (_, d) => `s[${nq + d}]`), ...qddOfDof].join(', ');
  return /* wgsl */ `
// Rigid-body dynamics of ${tree.name} (${n} nodes, ${nq} dofs, ${nu} actuators): articulated-body algorithm, wgsl-rigid-body.ts.
fn rb_outer(a: vec3<f32>, b: vec3<f32>) -> mat3x3<f32> { return mat3x3<f32>(a * b.x, a * b.y, a * b.z); }
fn rb_skew(c: vec3<f32>) -> mat3x3<f32> { return mat3x3<f32>(0.0f, c.z, -c.y, -c.z, 0.0f, c.x, c.y, -c.x, 0.0f); }
fn dynamics(s: array<f32, ${nx}>, a: array<f32, ${nu}>) -> array<f32, ${nx}> {
${lines.join('\n')}
  return array<f32, ${nx}>(${derivative});
}
`;
}
