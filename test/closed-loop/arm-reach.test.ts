import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { plantOpener } from '../../src/cli/open-plant.js';
import { loadConfig } from '../../src/config/load-config.js';
import { SimSession, type EpisodeResult } from '../../src/loop/sim-session.js';

// Closed loop, arms reaching goals sent at run time: scenario.goals writes a new random target
// into the live params every few seconds, as a robot's task software would, and each target is
// judged at the end of its time by the config's own success condition (the tip within 1 cm for
// the 3-link arm, the end effector within 2 cm for the 7-DoF arm). The planner plans over each
// arm's nominal MJCF; the MuJoCo plant is heavier, has friction, weaker motors and a payload the
// model does not know, which the input-disturbance observer takes up. Lock-step virtual time, the
// configs' seeds; one episode each in CI (`mpcd run config/arm7-reach.yaml --episodes 10` for ten).
const configDir = join(import.meta.dirname, '..', '..', '..', 'config');

async function episode(file: string): Promise<{ result: EpisodeResult; actions: Float32Array[]; bounds: [number, number][] }> {
  const loaded = await loadConfig(join(configDir, file));
  const c = loaded.config;
  assert.ok(c.model.kind === 'rigid_body' && c.plant.kind === 'sim');
  assert.notEqual(c.plant.mjcf, c.model.mjcf, 'the plant must not be the nominal file');
  const session = await SimSession.create(loaded, { openPlant: plantOpener(loaded) });
  const actions: Float32Array[] = [];
  try {
    const result = await session.runEpisode(0, (step) => {
      if (step.action !== undefined) actions.push(Float32Array.from(step.action));
    });
    return { result, actions, bounds: c.plant.actions.map((a) => c.control.action_bounds[a.name]!) };
  } finally {
    await session.close();
  }
}

function assertTorquesInside(actions: readonly Float32Array[], bounds: readonly [number, number][]): void {
  for (const a of actions) a.forEach((u, j) => assert.ok(u >= bounds[j]![0] && u <= bounds[j]![1], `action ${j} = ${u} outside ${bounds[j]}`));
}

test('the planar 3-link arm reaches each of five random targets within 1 cm, inside its joint ranges', async () => {
  const { result, actions, bounds } = await episode('arm3-reach.yaml');
  assert.equal(result.goals, 5);
  assert.equal(result.goals_reached, 5, `reached ${result.goals_reached} of 5`);
  assert.equal(result.joint_limit_excess, 0, 'the elbow and wrist never went past their stops');
  assertTorquesInside(actions, bounds);
});

test('the 7-DoF arm reaches at least 9 of 10 random targets within 2 cm, 2 s each, never past a joint or torque limit', async () => {
  const { result, actions, bounds } = await episode('arm7-reach.yaml');
  assert.equal(result.goals, 10);
  assert.ok(result.goals_reached! >= 9, `reached ${result.goals_reached} of 10`);
  assert.equal(result.joint_limit_excess, 0);
  assertTorquesInside(actions, bounds);
});
