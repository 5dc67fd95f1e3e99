import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { articulatedBodyDerivatives, DEFAULT_FRICTION_VELOCITY } from '../../../src/models/rigid-body/articulated-body.js';
import { getMujoco, loadMjcf } from '../../../src/models/rigid-body/mujoco-runtime.js';
import { readKinematicTree } from '../../../src/models/rigid-body/read-kinematic-tree.js';
import { mujocoAccelerations, randomBatch, worstRelativeError } from './mujoco-reference.js';

// dist/test/models/rigid-body -> repository root
const root = fileURLToPath(new URL('../../../../', import.meta.url));
/** Every robot of our own, and the trees written only for the tests (branching; gantry: the native kernel's special cases). */
const files = [
  ...readdirSync(join(root, 'sim', 'models')).filter((f) => f.endsWith('.xml')).map((f) => join(root, 'sim', 'models', f)),
  join(root, 'test', 'models', 'rigid-body', 'branching-tree.xml'),
  join(root, 'test', 'models', 'rigid-body', 'gantry-tree.xml'),
  join(root, 'test', 'models', 'rigid-body', 'free-body.xml'), // a free joint (off-centre inertia) with a hinge and a site thruster
  join(root, 'test', 'models', 'rigid-body', 'ball-pendulum.xml'), // a ball joint between two hinges
];
const SAMPLES = 1000;

describe('the rigid-body model against MuJoCo (mj_forward, constraints off)', () => {
  for (const file of files) {
    it(`${file.slice(root.length)}: joint accelerations at ${SAMPLES} random states and actions`, async () => {
      const mj = await getMujoco();
      const model = await loadMjcf(file);
      try {
        const tree = readKinematicTree(mj, model, file);
        assert.equal(tree.nq, model.nq, 'every joint of our models is modelled');
        assert.equal(tree.nv, model.nv);
        const nx = tree.nq + tree.nv;
        // MuJoCo's frictionloss is a constraint: compare the smooth dynamics without it.
        const smooth = { ...tree, frictionloss: tree.frictionloss.map(() => 0) };
        const { states, actions } = randomBatch(tree, SAMPLES, 7);
        const deriv = new Float32Array(states.length);
        articulatedBodyDerivatives(smooth, { frictionVelocity: DEFAULT_FRICTION_VELOCITY })(states, actions, deriv, SAMPLES);
        const want = mujocoAccelerations(mj, model, tree.nq, tree.nu, states, actions);
        const { error, sample } = worstRelativeError(deriv, nx, tree.nq, want, tree.nv);
        assert.ok(error <= 1e-4, `worst relative error ${error.toExponential(2)} at sample ${sample}`);
        if (tree.nq === tree.nv) {
          // d/dt q = q_dot, exactly.
          for (let k = 0; k < SAMPLES; k++) for (let d = 0; d < tree.nq; d++) assert.equal(deriv[k * nx + d], states[k * nx + tree.nq + d]);
        }
      } finally {
        model.delete();
      }
    });
  }
});
