import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MjModel } from 'mujoco-js';
import { ParamBlock } from '../../../src/gpu/param-block.js';
import { emitPointStates } from '../../../src/gpu/wgsl-points.js';
import { emitRigidBodyDynamics } from '../../../src/gpu/wgsl-rigid-body.js';
import { discretize, type IntegratorKind } from '../../../src/models/integrators.js';
import { DEFAULT_FRICTION_VELOCITY } from '../../../src/models/rigid-body/articulated-body.js';
import { treeQuaternions, treeStateNames, type KinematicTree } from '../../../src/models/rigid-body/kinematic-tree.js';
import { getMujoco, loadMjcf, type Mujoco } from '../../../src/models/rigid-body/mujoco-runtime.js';
import { nativeRigidBodyDynamics, nativeRigidBodyModel } from '../../../src/models/rigid-body/native-rigid-body-model.js';
import { pointKinematics } from '../../../src/models/rigid-body/native-point-kinematics.js';
import { PointKinematics } from '../../../src/models/rigid-body/point-kinematics.js';
import { readKinematicTree } from '../../../src/models/rigid-body/read-kinematic-tree.js';
import { rigidBodyDynamics } from '../../../src/models/rigid-body/rigid-body-dynamics.js';
import { Rng } from '../../../src/core/rng.js';
import { randomBatch } from './mujoco-reference.js';

// Ball and free joints (quaternions in qpos, nq != nv) and site actuators, TypeScript model: the
// accelerations are in mujoco-parity.test.ts with every other file; here the points, the
// integrators (unit quaternions, steps against mj_step) and the native and WGSL fall-backs.
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const FREE = join(root, 'test', 'models', 'rigid-body', 'free-body.xml');
const BALL = join(root, 'test', 'models', 'rigid-body', 'ball-pendulum.xml');
const QUAD = join(root, 'sim', 'models', 'quadrotor.xml');
const SAMPLES = 1000;
const OPTIONS = { frictionVelocity: DEFAULT_FRICTION_VELOCITY };

async function withModel<T>(file: string, fn: (mj: Mujoco, model: MjModel, tree: KinematicTree) => T | Promise<T>): Promise<T> {
  const mj = await getMujoco();
  const model = await loadMjcf(file);
  try {
    return await fn(mj, model, readKinematicTree(mj, model, file));
  } finally {
    model.delete();
  }
}

describe('ball and free joints: state names and layout', () => {
  it('free-body.xml: [qpos (8), qvel (7)] in MuJoCo order, the free joint as position and quaternion, linear and angular velocity', async () => {
    await withModel(FREE, (_mj, model, tree) => {
      assert.equal(tree.nq, model.nq);
      assert.equal(tree.nv, model.nv);
      assert.deepEqual(treeStateNames(tree), [
        'root_x', 'root_y', 'root_z', 'root_qw', 'root_qx', 'root_qy', 'root_qz', 'flap',
        'root_vx', 'root_vy', 'root_vz', 'root_wx', 'root_wy', 'root_wz', 'flap_dot',
      ]);
      assert.deepEqual(treeQuaternions(tree), [3, 3]);
      assert.deepEqual(tree.actuatorNames, ['thrust', 'flap_motor']);
      assert.deepEqual(tree.unsupported, []);
      // The joint-range check reads q by qpos coordinate: the free joint's seven are unlimited.
      assert.equal(tree.jointRange.length, 2 * tree.nq);
    });
  });

  it('ball-pendulum.xml: the ball joint as w, x, y, z and its child-frame angular velocity', async () => {
    await withModel(BALL, (_mj, _model, tree) => {
      assert.deepEqual(treeStateNames(tree), [
        'shoulder', 'wrist_qw', 'wrist_qx', 'wrist_qy', 'wrist_qz', 'finger',
        'shoulder_dot', 'wrist_wx', 'wrist_wy', 'wrist_wz', 'finger_dot',
      ]);
      const dynamics = rigidBodyDynamics(tree, OPTIONS);
      assert.equal(dynamics.nq, 6);
      assert.equal(dynamics.nv, 5);
      assert.deepEqual(dynamics.quaternions, [1, 1]);
      // Quaternion components are fed to learners as they are, not as angles.
      assert.deepEqual(dynamics.angular, [true, false, false, false, false, true, false, false, false, false, false]);
    });
  });
});

describe('ball and free joints: points against MuJoCo', () => {
  for (const file of [FREE, BALL, QUAD]) {
    it(`${file.slice(root.length)}: every site's position (site_xpos) within 1e-5 m and velocity (mj_objectVelocity) within 1e-4 at ${SAMPLES} random states`, async (t) => {
      await withModel(file, (mj, model, tree) => {
        const data = new mj.MjData(model);
        const velocity = new mj.DoubleBuffer(6);
        try {
          const sites = tree.points.filter((p) => p.kind === 'site');
          const ids = sites.map((s) => mj.mj_name2id(model, mj.mjtObj.mjOBJ_SITE.value, s.name));
          const fk = pointKinematics(tree, sites, OPTIONS);
          assert.ok(fk instanceof PointKinematics, 'the native kernel does not take quaternions: the TypeScript does');
          const { states } = randomBatch(tree, SAMPLES, 11);
          const np = sites.length;
          const nx = tree.nq + tree.nv;
          const out = new Float32Array(SAMPLES * 6 * np);
          fk.compute(states, SAMPLES, out, 6 * np, 0);
          let worstPos = 0;
          let worstVel = 0;
          for (let k = 0; k < SAMPLES; k++) {
            const qpos = data.qpos as Float64Array;
            const qvel = data.qvel as Float64Array;
            for (let i = 0; i < tree.nq; i++) qpos[i] = states[k * nx + i]!;
            for (let i = 0; i < tree.nv; i++) qvel[i] = states[k * nx + tree.nq + i]!;
            mj.mj_forward(model, data);
            const xpos = data.site_xpos as Float64Array;
            ids.forEach((id, j) => {
              mj.mj_objectVelocity(model, data, mj.mjtObj.mjOBJ_SITE.value, id, velocity, 0);
              const v = velocity.GetView() as Float64Array; // [angular; linear] at the site, world axes
              for (let c = 0; c < 3; c++) {
                worstPos = Math.max(worstPos, Math.abs(out[k * 6 * np + 6 * j + c]! - xpos[3 * id + c]!));
                worstVel = Math.max(worstVel, Math.abs(out[k * 6 * np + 6 * j + 3 + c]! - v[3 + c]!) / Math.max(1, Math.abs(v[3 + c]!)));
              }
            });
          }
          t.diagnostic(`worst position error ${worstPos.toExponential(2)} m, velocity ${worstVel.toExponential(2)}`);
          assert.ok(worstPos <= 1e-5, `worst position error ${worstPos.toExponential(2)} m`);
          assert.ok(worstVel <= 1e-4, `worst velocity error ${worstVel.toExponential(2)}`);
        } finally {
          velocity.delete();
          data.delete();
        }
      });
    });
  }
});

describe('ball and free joints: integration', () => {
  for (const integrator of ['rk4', 'semi_implicit_euler'] as const) {
    it(`${integrator}: quaternions stay unit over 1000 steps (10 s) of the quadrotor and the ball pendulum under random actions`, async (t) => {
      for (const file of [QUAD, BALL]) {
        await withModel(file, (_mj, _model, tree) => {
          const count = 32;
          // 1 ms steps: explicit steps of 5 ms pump energy into the ball pendulum until it diverges (MuJoCo's Euler too).
          const model = discretize(rigidBodyDynamics(tree, OPTIONS), integrator, 10, count);
          const nx = tree.nq + tree.nv;
          const { states } = randomBatch(tree, count, 3);
          const next = new Float32Array(states.length);
          const actions = new Float32Array(count * tree.nu);
          const rng = new Rng(5);
          const quats = treeQuaternions(tree);
          let worst = 0;
          for (let step = 0; step < 1000; step++) {
            for (let a = 0; a < actions.length; a++) actions[a] = 2 * rng.uniform();
            model.step(states, actions, next, count, 0.01);
            states.set(next);
            for (let k = 0; k < count; k++) {
              for (let e = 0; e < quats.length; e += 2) {
                const o = k * nx + quats[e]!;
                worst = Math.max(worst, Math.abs(Math.hypot(states[o]!, states[o + 1]!, states[o + 2]!, states[o + 3]!) - 1));
              }
            }
          }
          assert.ok(states.every(Number.isFinite), 'the state stays finite');
          t.diagnostic(`${file.slice(root.length)}: | |q| - 1 | up to ${worst.toExponential(2)}`);
          assert.ok(worst <= 1e-6, `${file.slice(root.length)}: |q| - 1 up to ${worst.toExponential(2)}`);
        });
      }
    });
  }

  /**
   * Steps the model and MuJoCo from the same random states under the same random actions for
   * `steps` control periods of `substeps` MuJoCo timesteps each; returns the worst difference of
   * any state over the run, relative to max(1, |MuJoCo's value|).
   */
  async function stepParity(file: string, integrator: IntegratorKind, mjIntegrator: 'mjINT_EULER' | 'mjINT_RK4', steps: number): Promise<number> {
    return withModel(file, (mj, mjModel, tree) => {
      const substeps = 5;
      const dt = substeps * mjModel.opt.timestep;
      mjModel.opt.integrator = mj.mjtIntegrator[mjIntegrator].value;
      const flags = mjModel.opt.disableflags;
      mjModel.opt.disableflags = flags | mj.mjtDisableBit.mjDSBL_CONSTRAINT.value;
      const data = new mj.MjData(mjModel);
      try {
        const count = 20;
        const nx = tree.nq + tree.nv;
        const model = discretize(rigidBodyDynamics({ ...tree, frictionloss: tree.frictionloss.map(() => 0) }, OPTIONS), integrator, substeps, count);
        const { states } = randomBatch(tree, count, 17);
        // Moderate starts (a tumble at 5 rad/s for 0.2 s is fine; at 25 m/s it is just far).
        for (let k = 0; k < count; k++) for (let i = 0; i < tree.nv; i++) states[k * nx + tree.nq + i]! *= 0.4;
        const next = new Float32Array(states.length);
        const rng = new Rng(23);
        const actions = new Float32Array(count * steps * tree.nu);
        for (let a = 0; a < actions.length; a++) actions[a] = 1 + rng.uniform();
        const reference = new Float64Array(count * nx);
        for (let k = 0; k < count; k++) {
          mj.mj_resetData(mjModel, data);
          const qpos = data.qpos as Float64Array;
          const qvel = data.qvel as Float64Array;
          for (let i = 0; i < tree.nq; i++) qpos[i] = states[k * nx + i]!;
          for (let i = 0; i < tree.nv; i++) qvel[i] = states[k * nx + tree.nq + i]!;
          for (let t = 0; t < steps; t++) {
            const ctrl = data.ctrl as Float64Array;
            for (let a = 0; a < tree.nu; a++) ctrl[a] = actions[(t * count + k) * tree.nu + a]!;
            for (let s = 0; s < substeps; s++) mj.mj_step(mjModel, data);
          }
          reference.set((data.qpos as Float64Array).subarray(0, tree.nq), k * nx);
          reference.set((data.qvel as Float64Array).subarray(0, tree.nv), k * nx + tree.nq);
        }
        for (let t = 0; t < steps; t++) {
          model.step(states, actions.subarray(t * count * tree.nu, (t + 1) * count * tree.nu), next, count, dt);
          states.set(next);
        }
        let worst = 0;
        for (let i = 0; i < count * nx; i++) worst = Math.max(worst, Math.abs(states[i]! - reference[i]!) / Math.max(1, Math.abs(reference[i]!)));
        return worst;
      } finally {
        data.delete();
        mjModel.opt.disableflags = flags;
      }
    });
  }

  it('semi_implicit_euler steps the quadrotor as mj_step does (Euler: velocities, then mj_integratePos), 0.2 s from 20 random states', async (t) => {
    const worst = await stepParity(QUAD, 'semi_implicit_euler', 'mjINT_EULER', 20);
    t.diagnostic(`worst relative state error ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-4, `worst relative state error ${worst.toExponential(2)}`);
  });

  it('rk4 steps the free body and the ball pendulum as mj_step with MuJoCo RK4 does, 0.2 s from 20 random states', async (t) => {
    for (const file of [FREE, BALL]) {
      const worst = await stepParity(file, 'rk4', 'mjINT_RK4', 20);
      t.diagnostic(`${file.slice(root.length)}: worst relative state error ${worst.toExponential(2)}`);
      assert.ok(worst <= 1e-4, `${file.slice(root.length)}: worst relative state error ${worst.toExponential(2)}`);
    }
  });
});

describe('ball and free joints, site actuators: the native and WGSL kernels decline', () => {
  for (const file of [FREE, BALL, QUAD]) {
    it(`${file.slice(root.length)}: no native model (the TypeScript one is built instead), no WGSL dynamics or points`, async () => {
      await withModel(file, (_mj, _model, tree) => {
        assert.equal(nativeRigidBodyModel({ tree, options: OPTIONS, integrator: 'rk4', substeps: 1, maxBatch: 4 }), undefined);
        assert.equal(nativeRigidBodyDynamics(tree, OPTIONS), undefined);
        assert.equal(emitRigidBodyDynamics(tree, DEFAULT_FRICTION_VELOCITY, new ParamBlock()), undefined);
        assert.equal(emitPointStates(tree, tree.points, new ParamBlock()), undefined);
      });
    });
  }
});
