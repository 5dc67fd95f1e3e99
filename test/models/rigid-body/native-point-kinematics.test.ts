import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_FRICTION_VELOCITY } from '../../../src/models/rigid-body/articulated-body.js';
import type { KinematicTree, TreePoint } from '../../../src/models/rigid-body/kinematic-tree.js';
import { NativePointKinematics, pointKinematics } from '../../../src/models/rigid-body/native-point-kinematics.js';
import { loadNativeRigidBodyKernels, type NativeRigidBodyPoints } from '../../../src/models/rigid-body/native-rigid-body-kernels.js';
import { PointKinematics } from '../../../src/models/rigid-body/point-kinematics.js';
import { rigidBodyBlock, rigidBodyPointsBlock } from '../../../src/models/rigid-body/rigid-body-block.js';
import { randomBatch, readTree } from './mujoco-reference.js';

/*
 * The native forward kinematics of points (rigidBodyPoints, native/kernels/rigid_body_aba.inc)
 * against the TypeScript PointKinematics, which point-kinematics.test.ts checks against MuJoCo's
 * site_xpos: every named site and body of each tree, plus a point on the world.
 */

// dist/test/models/rigid-body -> repository root
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const files = [
  join(root, 'test', 'models', 'rigid-body', 'branching-tree.xml'),
  join(root, 'test', 'models', 'rigid-body', 'gantry-tree.xml'),
  join(root, 'sim', 'models', 'cartpole-nominal.xml'),
  join(root, 'sim', 'models', 'arm7.xml'),
  join(root, 'sim', 'models', 'arm7-plant.xml'),
];
const SAMPLES = 1000; // not a multiple of any lane count: the last block is a partial one
const OPTIONS = { frictionVelocity: DEFAULT_FRICTION_VELOCITY };
/**
 * float32 arithmetic through the chain against the TypeScript's double rounded once: a few
 * float32 ulps of the positions (about 1 m) and of the velocities (joint speeds up to 5 rad/s
 * over arms of about 1 m), relative to the magnitude where it exceeds 1.
 */
const TOL = 2e-5;

const ALLOW_NO_NATIVE = process.env.MPCD_ALLOW_NO_NATIVE === '1';

/** The kernel, or undefined after skipping where it may be absent (test/native-kernels-or-skip.ts's policy). */
function kernelOrSkip(t: { skip(why: string): void }): NativeRigidBodyPoints | undefined {
  let reason: string;
  try {
    const kernels = loadNativeRigidBodyKernels() as Partial<NativeRigidBodyPoints>;
    if (typeof kernels.rigidBodyPoints === 'function') return kernels as NativeRigidBodyPoints;
    reason = 'the addon does not export rigidBodyPoints (stale build)';
  } catch (err) {
    reason = String(err);
  }
  if (!ALLOW_NO_NATIVE) throw new Error(`native rigidBodyPoints absent: ${reason}`);
  t.skip(`native rigidBodyPoints absent (MPCD_ALLOW_NO_NATIVE=1): ${reason}`);
  return undefined;
}


/** The tree's named points and one on the world. */
function allPoints(tree: KinematicTree): TreePoint[] {
  return [...tree.points, { name: 'world_mark', kind: 'site', node: -1, pos: [0.25, -0.5, 0.75] }];
}

describe('native forward kinematics of points against the TypeScript PointKinematics', () => {
  for (const file of files) {
    it(`${file.slice(root.length)}: positions and velocities of every site and body at ${SAMPLES} random states, written in place in wider rows`, async (t) => {
      const kernel = kernelOrSkip(t);
      if (kernel === undefined) return;
      const tree = await readTree(file);
      const points = allPoints(tree);
      const np = points.length;
      const { states } = randomBatch(tree, SAMPLES, 23);
      const want = new Float32Array(SAMPLES * 6 * np);
      new PointKinematics(tree, points).compute(states, SAMPLES, want, 6 * np, 0);
      // As the task cost uses it: each row [state | points], plus a spare number at either end.
      const nx = 2 * tree.nq;
      const stride = 1 + nx + 6 * np + 1;
      const offset = 1 + nx;
      const got = new Float32Array(SAMPLES * stride).fill(NaN);
      new NativePointKinematics(kernel, tree, points, OPTIONS).compute(states, SAMPLES, got, stride, offset);
      let worst = 0;
      let where = '';
      for (let k = 0; k < SAMPLES; k++) {
        for (let e = 0; e < stride; e++) {
          const v = got[k * stride + e]!;
          if (e < offset || e >= offset + 6 * np) {
            assert.ok(Number.isNaN(v), `sample ${k}: entry ${e} outside the points' columns was written`);
            continue;
          }
          const w = want[k * 6 * np + e - offset]!;
          const err = Math.abs(v - w) / Math.max(1, Math.abs(w));
          if (!(err <= worst)) {
            worst = err;
            where = `sample ${k}, point ${points[Math.floor((e - offset) / 6)]!.name}, component ${(e - offset) % 6}: ${v} vs ${w}`;
          }
        }
      }
      assert.ok(worst <= TOL, `worst relative error ${worst.toExponential(2)} at ${where}`);
    });
  }

  it('pointKinematics is native where the kernel is, the TypeScript with MPCD_NO_NATIVE=1; both agree on one sample', async (t) => {
    const kernel = kernelOrSkip(t);
    if (kernel === undefined) return;
    const tree = await readTree(join(root, 'sim', 'models', 'arm7.xml'));
    const points = allPoints(tree);
    assert.ok(pointKinematics(tree, points, OPTIONS) instanceof NativePointKinematics);
    const before = process.env['MPCD_NO_NATIVE'];
    process.env['MPCD_NO_NATIVE'] = '1';
    try {
      assert.ok(pointKinematics(tree, points, OPTIONS) instanceof PointKinematics);
    } finally {
      if (before === undefined) delete process.env['MPCD_NO_NATIVE'];
      else process.env['MPCD_NO_NATIVE'] = before;
    }
    const { states } = randomBatch(tree, 1, 5);
    const a = new Float32Array(6 * points.length);
    const b = new Float32Array(6 * points.length);
    pointKinematics(tree, points, OPTIONS).compute(states, 1, a, a.length, 0);
    new PointKinematics(tree, points).compute(states, 1, b, b.length, 0);
    a.forEach((v, e) => assert.ok(Math.abs(v - b[e]!) <= TOL * Math.max(1, Math.abs(b[e]!)), `component ${e}: ${v} vs ${b[e]}`));
  });

  it('checks its arguments: the points block, the rows, the memory', async (t) => {
    const kernel = kernelOrSkip(t);
    if (kernel === undefined) return;
    const tree = await readTree(join(root, 'test', 'models', 'rigid-body', 'branching-tree.xml'));
    const block = rigidBodyBlock(tree, OPTIONS);
    const points = rigidBodyPointsBlock(tree, tree.points);
    const np = tree.points.length;
    const nx = 2 * tree.nq;
    const states = new Float32Array(4 * nx);
    const out = new Float32Array(4 * 6 * np);
    const run = (p: Float64Array, o = out, stride = 6 * np, offset = 0, count = 4, s = states): void => kernel.rigidBodyPoints(block, p, s, count, o, stride, offset);
    assert.doesNotThrow(() => run(points));
    const version = Float64Array.from(points);
    version[0] = 7;
    assert.throws(() => run(version), { name: 'RangeError', message: /points block has layout version 7, this addon reads version 1/ });
    assert.throws(() => run(points.subarray(0, points.length - 1)), { name: 'RangeError', message: /points block has \d+ numbers, but its header/ });
    const node = Float64Array.from(points);
    node[2] = tree.nodeCount;
    assert.throws(() => run(node), { name: 'RangeError', message: /point 0 is on node/ });
    const nan = Float64Array.from(points);
    nan[3] = NaN;
    assert.throws(() => run(nan), { name: 'RangeError', message: /point 0 position must be finite/ });
    assert.throws(() => run(points, out, 6 * np, 1), { name: 'RangeError', message: /must fit in stride/ });
    assert.throws(() => run(points, out.subarray(1)), { name: 'RangeError', message: /out too short/ });
    assert.throws(() => run(points, out, 6 * np, 0, 5), { name: 'RangeError', message: /states too short/ });
    const shared = new Float32Array(4 * nx + 4 * 6 * np);
    assert.throws(() => run(points, shared.subarray(4 * nx - 1), 6 * np, 0, 4, shared.subarray(0, 4 * nx)), { name: 'RangeError', message: /share memory/ });
    assert.throws(() => kernel.rigidBodyPoints(block, new Float32Array(points) as never, states, 4, out, 6 * np, 0), { name: 'TypeError', message: /points must be a Float64Array/ });
    assert.throws(() => rigidBodyPointsBlock(tree, []), /takes 1 to 256 points/);
  });
});
