import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MjModel } from 'mujoco-js';
import { PointKinematics } from '../../../src/models/rigid-body/point-kinematics.js';
import { getMujoco, loadMjcf, type Mujoco } from '../../../src/models/rigid-body/mujoco-runtime.js';
import { readKinematicTree } from '../../../src/models/rigid-body/read-kinematic-tree.js';
import { randomBatch } from './mujoco-reference.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const files = [join(root, 'test', 'models', 'rigid-body', 'branching-tree.xml'), join(root, 'sim', 'models', 'cartpole-nominal.xml')];
const SAMPLES = 1000;

/** MuJoCo's site_xpos at q, [nsite, 3]. */
function sitePositions(mj: Mujoco, model: MjModel, data: InstanceType<Mujoco['MjData']>, q: ArrayLike<number>): Float64Array {
  const qpos = data.qpos as Float64Array;
  for (let d = 0; d < model.nq; d++) qpos[d] = q[d]!;
  mj.mj_kinematics(model, data);
  return Float64Array.from(data.site_xpos as Float64Array);
}

describe('forward kinematics of named points against MuJoCo', () => {
  for (const file of files) {
    it(`${file.slice(root.length)}: site positions (site_xpos) within 1e-5 m, velocities within 1e-4 of MuJoCo's by central differences`, async () => {
      const mj = await getMujoco();
      const model = await loadMjcf(file);
      const data = new mj.MjData(model);
      try {
        const tree = readKinematicTree(mj, model, file);
        const sites = tree.points.filter((p) => p.kind === 'site');
        assert.ok(sites.length > 0, 'the file names sites');
        const siteIds = sites.map((s) => mj.mj_name2id(model, mj.mjtObj.mjOBJ_SITE.value, s.name));
        const fk = new PointKinematics(tree, sites);
        const { states } = randomBatch(tree, SAMPLES, 11);
        const np = sites.length;
        const out = new Float32Array(SAMPLES * 6 * np);
        fk.compute(states, SAMPLES, out, 6 * np, 0);
        const nq = tree.nq;
        const eps = 1e-6;
        let worstPos = 0;
        let worstVel = 0;
        for (let k = 0; k < SAMPLES; k++) {
          const q = states.subarray(k * 2 * nq, k * 2 * nq + nq);
          const qd = states.subarray(k * 2 * nq + nq, (k + 1) * 2 * nq);
          const at = sitePositions(mj, model, data, q);
          const plus = sitePositions(mj, model, data, Array.from(q, (v, d) => v + eps * qd[d]!));
          const minus = sitePositions(mj, model, data, Array.from(q, (v, d) => v - eps * qd[d]!));
          siteIds.forEach((id, j) => {
            for (let c = 0; c < 3; c++) {
              worstPos = Math.max(worstPos, Math.abs(out[k * 6 * np + 6 * j + c]! - at[3 * id + c]!));
              const v = (plus[3 * id + c]! - minus[3 * id + c]!) / (2 * eps);
              worstVel = Math.max(worstVel, Math.abs(out[k * 6 * np + 6 * j + 3 + c]! - v) / Math.max(1, Math.abs(v)));
            }
          });
        }
        assert.ok(worstPos <= 1e-5, `worst position error ${worstPos.toExponential(2)} m`);
        assert.ok(worstVel <= 1e-4, `worst velocity error ${worstVel.toExponential(2)}`);
      } finally {
        data.delete();
        model.delete();
      }
    });
  }
});
