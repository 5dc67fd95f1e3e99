import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, parseConfigText } from '../../src/config/load-config.js';
import { MpcdError } from '../../src/core/errors.js';

const configDir = join(import.meta.dirname, '..', '..', '..', 'config');
const swingup = readFileSync(join(configDir, 'cartpole-swingup.yaml'), 'utf8');

function errorsOf(text: string): string[] {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof MpcdError, `expected MpcdError, got ${String(err)}`);
    return [...err.details];
  }
  assert.fail('config was accepted');
}

test('every example in config/ validates', async () => {
  const files = readdirSync(configDir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 3, `found ${files.length} examples`);
  for (const f of files) {
    const loaded = await loadConfig(join(configDir, f));
    assert.ok(['sim', 'mqtt', 'serial'].includes(loaded.config.plant.kind), f);
  }
});

test('a wrong field is named with what was expected and what was found', () => {
  const errors = errorsOf(swingup.replace('temperature: 1.0', 'temperature: hot'));
  assert.deepEqual(errors, ['planner.temperature: expected number, found "hot"']);
});

test('every wrong field gets its own error', () => {
  const text = swingup
    .replace('samples: 1024', 'samples: -3')
    .replace('period: 0.02', 'period: "fast"')
    .replace('pole_mass: 0.1', 'pole_mass: 0')
    .replace('kind: state_bounds', 'kind: sate_bounds');
  const errors = errorsOf(text);
  assert.equal(errors.length, 4, errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith('planner.samples:') && e.includes('-3')), errors.join('\n'));
  assert.ok(errors.some((e) => e === 'control.period: expected number, found "fast"'), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith('model.params.pole_mass:') && e.includes('0')), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith('task.cost[1].kind:') && e.includes('sate_bounds')), errors.join('\n'));
});

test('a misspelt key is an error, not silently ignored', () => {
  const errors = errorsOf(swingup.replace('temperature: 1.0', 'temprature: 1.0'));
  assert.deepEqual(errors, ['planner.temprature: unknown field; remove it or check its spelling']);
});

test('an unknown planner kind lists the known kinds', () => {
  const errors = errorsOf(swingup.replace('kind: mppi', 'kind: ilqr'));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^planner\.kind: .*mppi.*cem.*found "ilqr"/);
});

test('names of states and actions are checked against the model', () => {
  const text = swingup
    .replace('noise_std: { u: 0.6 }', 'noise_std: { force: 0.6 }')
    .replace('bounds: { x: [-1.2, 1.2] }', 'bounds: { y: [-1.2, 1.2] }')
    .replace('- { name: x, joint: slider, field: qpos }', '- { name: pos, joint: slider, field: qpos }');
  const errors = errorsOf(text);
  assert.ok(errors.includes('planner.noise_std.force: unknown action "force"; expected one of: u'), errors.join('\n'));
  assert.ok(errors.includes('planner.noise_std.u: missing; give a value for every action (u)'), errors.join('\n'));
  assert.ok(errors.includes('task.cost[1].bounds.y: unknown state "y"; expected one of: x, theta, x_dot, theta_dot'), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith('plant.state: names pos, theta')), errors.join('\n'));
});

test('an expression with an unknown name is a config error that names it', () => {
  const errors = errorsOf(swingup.replace('10*(1 - cos(theta))', '10*(1 - cos(thetta))'));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^task\.cost\[0\]\.expr: unknown name "thetta"/);
});

test('an expression cannot inject code', () => {
  const errors = errorsOf(swingup.replace('abs(wrap(theta)) < 0.2', 'process.exit(1)'));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^task\.success\.expr: /);
});

test('bad YAML names the problem and the file', () => {
  assert.throws(() => parseConfigText('model: [unclosed', 'bad.yaml'), (err: unknown) => {
    assert.ok(err instanceof MpcdError);
    assert.equal(err.code, 'CONFIG_YAML');
    assert.match(err.message, /bad\.yaml is not valid YAML/);
    return true;
  });
});

test('defaults fill what is left out', () => {
  const minimal = `
model: { robot: pendulum }
control: { action_bounds: { u: [-1, 1] } }
planner: { kind: cem, init_std: { u: 0.5 } }
task:
  cost: [{ kind: quadratic, weights: { theta: 1 } }]
  success: { expr: "abs(wrap(theta)) < 0.1" }
plant:
  kind: sim
  mjcf: x.xml
  state: [{ name: theta, joint: hinge, field: qpos }, { name: theta_dot, joint: hinge, field: qvel }]
  actions: [{ name: u, actuator: m }]
`;
  const c = parseConfigText(minimal, 'minimal.yaml');
  assert.equal(c.control.period, 0.02);
  assert.equal(c.planner.kind, 'cem');
  if (c.planner.kind === 'cem') assert.equal(c.planner.beta, 2);
  assert.equal(c.model.kind, 'analytic');
  if (c.model.kind === 'analytic') assert.equal(c.model.params.gravity, 9.81);
  assert.equal(c.scenario.episode_seconds, 10);
});
