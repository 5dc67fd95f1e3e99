import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ContinuousDynamics } from '../../../src/models/dynamics.js';
import { articulatedBodyDerivatives, DEFAULT_FRICTION_VELOCITY } from '../../../src/models/rigid-body/articulated-body.js';
import { treeAngular, treeStateNames, type KinematicTree } from '../../../src/models/rigid-body/kinematic-tree.js';
import { getMujoco, loadMjcf } from '../../../src/models/rigid-body/mujoco-runtime.js';
import { loadNativeRigidBodyKernels, type NativeRigidBodyKernels } from '../../../src/models/rigid-body/native-rigid-body-kernels.js';
import { nativeRigidBodyDynamics, nativeRigidBodyModel } from '../../../src/models/rigid-body/native-rigid-body-model.js';
import { readKinematicTree } from '../../../src/models/rigid-body/read-kinematic-tree.js';
import { RB_HEADER, rigidBodyBlock } from '../../../src/models/rigid-body/rigid-body-block.js';
import { discretize, type IntegratorKind } from '../../../src/models/integrators.js';
import { mujocoAccelerations, randomBatch, readTree, withFrictionAndJointClamp, worstRelativeError } from './mujoco-reference.js';

/*
 * The native rigid-body kernel (native/kernels/rigid_body_kernel.c) against MuJoCo's mj_forward
 * (as mujoco-parity.test.ts checks the TypeScript twin) and against the TypeScript twin stepped
 * by discretize, on the same MJCFs.
 */

// dist/test/models/rigid-body -> repository root
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const files = [
  // The quadrotor's free joint and site thrusters are the TypeScript model's alone (quaternion-joints.test.ts checks the kernel declines them).
  ...readdirSync(join(root, 'sim', 'models')).filter((f) => f.endsWith('.xml') && !f.startsWith('quadrotor')).map((f) => join(root, 'sim', 'models', f)),
  join(root, 'test', 'models', 'rigid-body', 'branching-tree.xml'),
  join(root, 'test', 'models', 'rigid-body', 'gantry-tree.xml'), // welded bodies, slides under slides, hinges on them: rigid_body_setup.h's cases
];
const SAMPLES = 1000; // not a multiple of any lane count: the last group is a partial one
const OPTIONS = { frictionVelocity: DEFAULT_FRICTION_VELOCITY };
/**
 * The step test's dry friction is smoothed over 0.1 rad/s (or m/s): at the default 0.01 its slope
 * on the lightest joints (a double pendulum's second pole) makes 5 ms explicit steps unstable, and
 * an unstable rollout amplifies float32 rounding without bound, which says nothing of the kernel.
 */
const STEP_OPTIONS = { frictionVelocity: 0.1 };
/** float32 arithmetic through the three passes against MuJoCo's double (the TypeScript twin gets 6e-8). */
const DERIV_TOL = 1e-4;
/**
 * float32 arithmetic inside each sub-step vs the twin's double between float32 stores: per step
 * a few float32 ulps of the accelerations (about 1e-5 relative at worst, above) times h, grown
 * over STEPS steps of a chaotic tree started at up to 5 rad/s (about 4e-6 seen; 6e-5 after 10
 * steps). Sub-steps of at most 5 ms: at 20 ms the branching tree's light links and stiff servo
 * make explicit integration diverge within three steps, twin and kernel alike, and diverged
 * samples compare nothing.
 */
const STEP_TOL = 5e-5;
/** Double inside, rounded where the twin rounds: an ulp of a float32 now and then (FMA, sin/cos, tanh). */
const EXACT_TOL = 2e-6;
const STEPS = 5;

const ALLOW_NO_NATIVE = process.env.MPCD_ALLOW_NO_NATIVE === '1';

/** The kernel, or undefined after skipping where it may be absent (test/native-kernels-or-skip.ts's policy). */
function kernelsOrSkip(t: { skip(why: string): void }): NativeRigidBodyKernels | undefined {
  try {
    return loadNativeRigidBodyKernels();
  } catch (err) {
    if (!ALLOW_NO_NATIVE) throw err;
    t.skip(`native rigid-body kernel absent (MPCD_ALLOW_NO_NATIVE=1): ${String(err)}`);
    return undefined;
  }
}



/** The TypeScript twin as continuous dynamics. */
function twinDynamics(tree: KinematicTree, options = OPTIONS): ContinuousDynamics {
  const derivatives = articulatedBodyDerivatives(tree, options);
  return { stateNames: treeStateNames(tree), actionNames: tree.actuatorNames, angular: treeAngular(tree), nq: tree.nq, derivatives };
}

/** Per sample, the largest difference over the largest magnitude of the reference (at least 1). */
function worstStateError(got: Float32Array, want: Float32Array, nx: number): { error: number; sample: number } {
  let error = 0;
  let sample = -1;
  for (let k = 0; k < got.length / nx; k++) {
    let scale = 1;
    let diff = 0;
    for (let j = 0; j < nx; j++) scale = Math.max(scale, Math.abs(want[k * nx + j]!));
    for (let j = 0; j < nx; j++) diff = Math.max(diff, Math.abs(got[k * nx + j]! - want[k * nx + j]!));
    if (!(diff / scale <= error)) {
      error = diff / scale;
      sample = k;
    }
  }
  return { error, sample };
}

describe('the native rigid-body kernel against MuJoCo (mj_forward, constraints off)', () => {
  for (const file of files) {
    it(`${file.slice(root.length)}: joint accelerations at ${SAMPLES} random states and actions, float32 and exact`, async (t) => {
      const kernels = kernelsOrSkip(t);
      if (kernels === undefined) return;
      const mj = await getMujoco();
      const model = await loadMjcf(file);
      try {
        const tree = readKinematicTree(mj, model, file);
        // MuJoCo's frictionloss is a constraint: compare the smooth dynamics without it.
        const smooth = { ...tree, frictionloss: tree.frictionloss.map(() => 0) };
        const { states, actions } = randomBatch(tree, SAMPLES, 11);
        const want = mujocoAccelerations(mj, model, tree.nq, tree.nu, states, actions);
        for (const exact of [false, true]) {
          const dynamics = nativeRigidBodyDynamics(smooth, OPTIONS, exact, kernels);
          assert.ok(dynamics !== undefined);
          const deriv = new Float32Array(states.length).fill(NaN);
          dynamics.derivatives(states, actions, deriv, SAMPLES);
          const { error, sample } = worstRelativeError(deriv, 2 * tree.nq, tree.nq, want, tree.nq);
          assert.ok(error <= (exact ? 1e-6 : DERIV_TOL), `exact ${exact}: worst relative error ${error.toExponential(2)} at sample ${sample}`);
          for (let k = 0; k < SAMPLES; k++) {
            for (let d = 0; d < tree.nq; d++) assert.equal(deriv[k * 2 * tree.nq + d], states[k * 2 * tree.nq + tree.nq + d], 'd/dt q = q_dot, exactly');
          }
        }
      } finally {
        model.delete();
      }
    });
  }
});

describe('the native rigid-body step against discretize over the TypeScript twin', () => {
  const cases: { integrator: IntegratorKind; substeps: number; dt: number }[] = [
    { integrator: 'rk4', substeps: 1, dt: 0.005 },
    { integrator: 'rk4', substeps: 4, dt: 0.02 },
    { integrator: 'semi_implicit_euler', substeps: 1, dt: 0.005 },
    { integrator: 'semi_implicit_euler', substeps: 4, dt: 0.02 },
  ];
  for (const file of files) {
    for (const { integrator, substeps, dt } of cases) {
      it(`${file.slice(root.length)}: ${STEPS} steps of ${dt} s by ${integrator}, ${substeps} substeps, with dry friction and a joint force clamp`, async (t) => {
        const kernels = kernelsOrSkip(t);
        if (kernels === undefined) return;
        const tree = withFrictionAndJointClamp(await readTree(file));
        const nx = 2 * tree.nq;
        const { states, actions } = randomBatch(tree, SAMPLES, 5);
        const twin = discretize(twinDynamics(tree, STEP_OPTIONS), integrator, substeps, SAMPLES);
        const want = Float32Array.from(states);
        const next = new Float32Array(states.length);
        for (let s = 0; s < STEPS; s++) {
          twin.step(want, actions, next, SAMPLES, dt);
          want.set(next);
        }
        for (const exact of [false, true]) {
          const model = nativeRigidBodyModel({ tree, options: STEP_OPTIONS, integrator, substeps, maxBatch: SAMPLES, exact }, kernels);
          assert.ok(model !== undefined);
          assert.deepEqual(model.stateNames, twin.stateNames);
          assert.deepEqual(model.actionNames, twin.actionNames);
          assert.deepEqual(model.angular, twin.angular);
          // In place (out = states), as the kernel allows.
          const got = Float32Array.from(states);
          for (let s = 0; s < STEPS; s++) model.step(got, actions, got, SAMPLES, dt);
          const { error, sample } = worstStateError(got, want, nx);
          assert.ok(error <= (exact ? EXACT_TOL : STEP_TOL), `exact ${exact}: worst relative error ${error.toExponential(2)} at sample ${sample}`);
        }
      });
    }
  }
});

describe('the native rigid-body kernel checks its arguments', () => {
  it('a block of another layout version, of the wrong length, or a bad tree is a RangeError naming it; so are short arrays', async (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const tree = await readTree(join(root, 'test', 'models', 'rigid-body', 'branching-tree.xml'));
    const block = rigidBodyBlock(tree, OPTIONS);
    const nx = 2 * tree.nq;
    const states = new Float32Array(4 * nx);
    const actions = new Float32Array(4 * tree.nu);
    const out = new Float32Array(4 * nx);
    const derivatives = (b: Float64Array): void => kernels.rigidBodyDerivatives(b, states, actions, out, 4);
    assert.doesNotThrow(() => derivatives(block));

    const version = Float64Array.from(block);
    version[0] = 99;
    assert.throws(() => derivatives(version), { name: 'RangeError', message: /layout version 99, this addon reads version 1/ });
    assert.throws(() => derivatives(block.subarray(0, block.length - 1)), { name: 'RangeError', message: /has \d+ numbers, but its header .* needs \d+/ });
    assert.throws(() => derivatives(block.subarray(0, 3)), { name: 'RangeError', message: /fewer than its 8-number header/ });
    const nodes = Float64Array.from(block);
    nodes[1] = 65;
    assert.throws(() => derivatives(nodes), { name: 'RangeError', message: /node count must be an integer in \[1, 64\]/ });
    const parent = Float64Array.from(block);
    parent[RB_HEADER] = 0; // node 0's parent: itself
    assert.throws(() => derivatives(parent), { name: 'RangeError', message: /node 0 has parent 0/ });
    const nan = Float64Array.from(block);
    nan[RB_HEADER + 16] = NaN; // node 0's mass
    assert.throws(() => derivatives(nan), { name: 'RangeError', message: /node 0 field 16 must be finite/ });
    assert.throws(() => kernels.rigidBodyDerivatives(new Float64Array(3), states, actions, out, 4), { name: 'RangeError' });
    assert.throws(() => kernels.rigidBodyDerivatives(new Float32Array(block) as never, states, actions, out, 4), { name: 'TypeError', message: /block must be a Float64Array/ });

    assert.throws(() => kernels.rigidBodyDerivatives(block, states, actions, out, 5), { name: 'RangeError', message: /states too short/ });
    assert.throws(() => kernels.rigidBodyStep(block, 0, 1, 0.02, states, actions.subarray(1), out, 4), { name: 'RangeError', message: /actions too short/ });
    assert.throws(() => kernels.rigidBodyStep(block, 2, 1, 0.02, states, actions, out, 4), { name: 'RangeError', message: /integrator/ });
    assert.throws(() => kernels.rigidBodyStep(block, 0, 0, 0.02, states, actions, out, 4), { name: 'RangeError', message: /substeps/ });
    assert.throws(() => kernels.rigidBodyStep(block, 0, 1, NaN, states, actions, out, 4), { name: 'RangeError', message: /dt must be finite/ });
    assert.throws(() => kernels.rigidBodyStep(block, 0, 1, 0.02, states, actions, states.subarray(1), 3), { name: 'RangeError', message: /share memory/ });
    assert.throws(() => kernels.rigidBodyDerivatives(block, states, actions, states, 4), { name: 'RangeError', message: /share memory/ });
  });

  it('unlimited clamps travel as infinities; the TypeScript refuses a tree the kernel could not take', async () => {
    const tree = await readTree(join(root, 'test', 'models', 'rigid-body', 'branching-tree.xml'));
    const block = rigidBodyBlock(tree, OPTIONS);
    assert.ok(block.includes(Infinity) && block.includes(-Infinity));
    assert.throws(() => rigidBodyBlock(tree, { frictionVelocity: 0 }), RangeError);
    assert.throws(() => rigidBodyBlock({ ...tree, nodeCount: 65 }, OPTIONS), /takes 1 to 64 nodes/);
  });

  it('with MPCD_NO_NATIVE=1 there is no native model (the caller discretizes the twin)', async () => {
    const tree = await readTree(join(root, 'sim', 'models', 'pendulum.xml'));
    const before = process.env['MPCD_NO_NATIVE'];
    process.env['MPCD_NO_NATIVE'] = '1';
    try {
      assert.equal(nativeRigidBodyModel({ tree, options: OPTIONS, integrator: 'rk4', substeps: 1, maxBatch: 1 }), undefined);
      assert.equal(nativeRigidBodyDynamics(tree, OPTIONS), undefined);
    } finally {
      if (before === undefined) delete process.env['MPCD_NO_NATIVE'];
      else process.env['MPCD_NO_NATIVE'] = before;
    }
  });
});
