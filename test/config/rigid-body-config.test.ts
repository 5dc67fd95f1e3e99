import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig, parseConfigText } from '../../src/config/load-config.js';
import { MpcdError } from '../../src/core/errors.js';
import { continuousModel } from '../../src/models/continuous-model.js';
import { getMujoco } from '../../src/models/rigid-body/mujoco-runtime.js';
import { unsupportedNotice } from '../../src/models/rigid-body/rigid-body-dynamics.js';

const fixtures = join(import.meta.dirname, '..', '..', '..', 'test', 'models', 'rigid-body');
const scratch = mkdtempSync(join(tmpdir(), 'mpcd-rigid-body-config-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
before(async () => {
  await getMujoco();
});

/** A small config planning for `model` (YAML lines under model:), every name given by the caller. */
function configText(model: string, states: string[], ...actions: string[]): string {
  const each = (names: string[], v: string): string => `{ ${names.map((n) => `${n}: ${v}`).join(', ')} }`;
  return `
model:
${model}
control: { period: 0.02, action_bounds: ${each(actions, '[-1, 1]')} }
planner: { kind: mppi, samples: 16, horizon: 5, noise_std: ${each(actions, '0.5')} }
task:
  cost: [{ kind: quadratic, weights: ${each(states, '1')} }]
  success: { expr: "1 > 0" }
plant: { kind: mqtt, topic_prefix: test/r, channels: [{ name: state, fields: ${each(states, 'v')} }] }
`;
}

function errorOf(fn: () => unknown): MpcdError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MpcdError, String(err));
    return err;
  }
  assert.fail('accepted');
}

test('a URDF robot: MuJoCo compiles it, model.motors gives it its actions', () => {
  const states = ['shoulder', 'elbow', 'shoulder_dot', 'elbow_dot'];
  const c = parseConfigText(configText(`  kind: rigid_body\n  urdf: ${join(fixtures, 'two-link.urdf')}\n  motors: { shoulder: 8, elbow: 4 }`, states, 'shoulder_motor', 'elbow_motor'), join(scratch, 'urdf.yaml'));
  assert.equal(c.model.kind, 'rigid_body');
  const dyn = continuousModel(c.model);
  assert.deepEqual(dyn.stateNames, states);
  assert.deepEqual(dyn.actionNames, ['shoulder_motor', 'elbow_motor']);
  assert.deepEqual(dyn.angular, [true, false, false, false], 'continuous shoulder wraps; the limited elbow does not');
  // Hanging straight down at rest, a unit shoulder action turns the arm: positive acceleration.
  const deriv = new Float32Array(4);
  dyn.derivatives(new Float32Array(4), Float32Array.of(1, 0), deriv, 1);
  assert.ok(deriv[2]! > 0, `shoulder acceleration ${deriv[2]}`);
});

test('a URDF without model.motors: the error says there is nothing to plan and how to name motors', () => {
  const err = errorOf(() => parseConfigText(configText(`  kind: rigid_body\n  urdf: ${join(fixtures, 'two-link.urdf')}`, ['shoulder'], 'u'), join(scratch, 'nomotors.yaml')));
  assert.match(err.message, /model\.urdf: .*two-link\.urdf has no actuators .* model\.motors .*e\.g\. motors: \{ shoulder: 10 \}/);
});

test('exactly one of mjcf and urdf', () => {
  const err = errorOf(() => parseConfigText(configText('  kind: rigid_body', ['a'], 'u'), join(scratch, 'none.yaml')));
  assert.match(err.details.join('\n'), /model\.mjcf: give the robot's file as exactly one of mjcf: <file> or urdf: <file>/);
});

test('an MJCF that MuJoCo rejects: its own message, with the file and line, no stack trace', async () => {
  const bad = join(scratch, 'bad.xml');
  writeFileSync(bad, '<mujoco>\n<worldbody>\n<body name="a">\n<joint type="hinge" axis="0 1"/>\n<geom size="0.1"/>\n</body>\n</worldbody>\n</mujoco>\n');
  const cfg = join(scratch, 'bad.yaml');
  writeFileSync(cfg, configText('  kind: rigid_body\n  mjcf: bad.xml', ['a'], 'u'));
  await assert.rejects(loadConfig(cfg), (err: unknown) => {
    assert.ok(err instanceof MpcdError);
    assert.equal(err.code, 'CONFIG_MODEL_FILE');
    assert.match(err.message, /bad\.yaml: model\.mjcf: MuJoCo rejected .*bad\.xml: XML Error: attribute 'axis' does not have enough data Element 'joint', line 4/);
    assert.doesNotMatch(err.message, /\n\s+at /);
    return true;
  });
});

test('what the file holds that the model does not represent is named in one start-up line', () => {
  const states = ['shoulder', 'elbow', 'shoulder_dot', 'elbow_dot'];
  const c = parseConfigText(configText(`  kind: rigid_body\n  mjcf: ${join(fixtures, 'unrepresented-parts.xml')}`, states, 'elbow_motor'), join(scratch, 'parts.yaml'));
  assert.equal(c.model.kind, 'rigid_body');
  if (c.model.kind !== 'rigid_body') return;
  const notice = unsupportedNotice(c.model.tree);
  assert.ok(notice !== undefined);
  assert.doesNotMatch(notice, /\n/);
  for (const part of ['tendon cable', '1 contact pair', '1 equality constraint', 'joint limits on elbow']) assert.ok(notice.includes(part), `${part} in: ${notice}`);
  assert.match(notice, /residual ensemble/);
  // A file with none of them says nothing.
  const clean = parseConfigText(configText(`  kind: rigid_body\n  mjcf: ${join(fixtures, '..', '..', '..', 'sim', 'models', 'cartpole-nominal.xml')}`, ['x', 'theta', 'x_dot', 'theta_dot'], 'u'), join(scratch, 'clean.yaml'));
  if (clean.model.kind === 'rigid_body') assert.equal(unsupportedNotice(clean.model.tree), undefined);
});
