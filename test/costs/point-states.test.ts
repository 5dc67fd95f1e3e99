import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/load-config.js';
import { MpcdError } from '../../src/core/errors.js';
import { buildTaskCost } from '../../src/costs/build-task-cost.js';
import { buildAnalyticModel } from '../../src/models/build-model.js';
import { getMujoco } from '../../src/models/rigid-body/mujoco-runtime.js';

const configDir = join(import.meta.dirname, '..', '..', '..', 'config');
const base = readFileSync(join(configDir, 'cartpole-rigid-body.yaml'), 'utf8');
const source = join(configDir, 'points-test.yaml');
/** The rigid-body cart-pole with a point on the pole's tip and a cost that is that point's height. */
const withTip = (points: string, expr = 'tip_z + 0*tip_x_dot'): string =>
  base.replace(/^task:\n/m, `task:\n  points: ${points}\n`).replace(/^ {2}cost:\n(?: {4}.*\n)+/m, `  cost:\n    - { kind: expression, name: height, expr: "${expr}" }\n`);

test('a site named in task.points becomes <point>_x.._z_dot for costs, from forward kinematics in the rollout', async () => {
  await getMujoco();
  const config = parseConfigText(withTip('{ tip: { site: tip } }', 'tip_z + 10 * tip_x_dot'), source);
  const model = buildAnalyticModel(config, 4);
  const cost = buildTaskCost(config, model);
  // [x, theta, x_dot, theta_dot]: upright at rest; hanging; upright moving; tilted 90 deg towards +x.
  const states = Float32Array.of(0, 0, 0, 0, 0.3, Math.PI, 0, 0, 0, 0, 0.5, 0, 0.2, Math.PI / 2, 0, 0);
  const costs = new Float32Array(4);
  cost.addRunning(states, new Float32Array(4), 4, costs);
  // The tip is 1 m up the pole: z = cos(theta); tip_x_dot = x_dot (+ theta_dot * cos(theta) for a 1 m pole).
  const expected = [1, -1, 1 + 10 * 0.5, 0];
  costs.forEach((c, k) => assert.ok(Math.abs(c - expected[k]!) < 1e-5, `sample ${k}: ${c}, expected ${expected[k]}`));
});

test('points name their site or body, need a rigid-body model, and do not shadow other names', async () => {
  await getMujoco();
  const errorsOf = (text: string): string[] => {
    try {
      parseConfigText(text, source);
    } catch (err) {
      assert.ok(err instanceof MpcdError);
      return [...err.details];
    }
    assert.fail('accepted');
  };
  assert.match(errorsOf(withTip('{ tip: { site: nose } }')).join('\n'), /task\.points\.tip: no site named "nose" in .*cartpole-nominal\.xml; its named sites: tip/);
  assert.match(errorsOf(withTip('{ tip: { body: pole } }', 'tip_q')).join('\n'), /unknown name|tip_q/);
  const analytic = readFileSync(join(configDir, 'cartpole-swingup.yaml'), 'utf8').replace(/^task:\n/m, 'task:\n  points: { tip: { site: tip } }\n');
  assert.match(errorsOf(analytic).join('\n'), /task\.points: points need a rigid-body model/);
});
