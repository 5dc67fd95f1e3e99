import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { plantOpener } from '../../src/cli/open-plant.js';
import { loadConfig } from '../../src/config/load-config.js';
import { SimSession } from '../../src/loop/sim-session.js';

// Closed loop, rigid-body models: the planner on the robot's nominal MJCF against a MuJoCo plant
// written apart from it (masses, centres of mass, friction, damping, armature, gear). Both robots
// are underactuated swing-ups; success is the config's own condition held for the last 2 s.
// Lock-step virtual time, fixed seeds; a few episodes each to keep CI short (ten-episode runs:
// `mpcd run config/<file> --episodes 10`).
const configDir = join(import.meta.dirname, '..', '..', '..', 'config');

/** Runs n episodes; per episode its result and the last state the daemon saw, in the plant's state order. */
async function episodes(file: string, n: number) {
  const loaded = await loadConfig(join(configDir, file));
  const { model, plant } = loaded.config;
  assert.ok(model.kind === 'rigid_body' && plant.kind === 'sim');
  assert.notEqual(plant.mjcf, model.mjcf, 'the plant must not be the nominal file');
  const session = await SimSession.create(loaded, { openPlant: plantOpener(loaded), seed: 11 });
  try {
    const out = [];
    for (let e = 0; e < n; e++) {
      let last: Float32Array | undefined;
      const result = await session.runEpisode(e, (step) => (last = step.state));
      out.push({ result, last: Array.from(last!) });
    }
    return { names: plant.state.map((s) => s.name), out };
  } finally {
    await session.close();
  }
}

test('MPPI swings the acrobot up on its elbow motor and holds the tip above 1.5 m over the shoulder', async () => {
  const { names, out } = await episodes('acrobot-swingup.yaml', 3);
  assert.deepEqual(names, ['shoulder', 'elbow', 'shoulder_dot', 'elbow_dot']);
  for (const { result, last } of out) {
    assert.ok(result.success, `episode ${result.episode} failed: cost ${result.cost}, final state ${last.join(', ')}`);
    // Both links 1 m, hinge angles from upright: the tip's height over the shoulder.
    const tipZ = Math.cos(last[0]!) + Math.cos(last[0]! + last[1]!);
    assert.ok(tipZ > 1.5, `episode ${result.episode}: final tip height ${tipZ}`);
  }
});

test('MPPI swings the double pendulum on a cart up and holds both poles with the cart near the centre', async () => {
  const { names, out } = await episodes('cart-double-pendulum-swingup.yaml', 3);
  assert.deepEqual(names, ['slider', 'hinge1', 'hinge2', 'slider_dot', 'hinge1_dot', 'hinge2_dot']);
  for (const { result, last } of out) {
    assert.ok(result.success, `episode ${result.episode} failed: cost ${result.cost}, final state ${last.join(', ')}`);
    const wrap = (a: number) => Math.atan2(Math.sin(a), Math.cos(a));
    assert.ok(Math.abs(wrap(last[1]!)) < 0.3 && Math.abs(wrap(last[1]! + last[2]!)) < 0.3, `episode ${result.episode}: poles at ${last[1]}, ${last[2]}`);
    assert.ok(Math.abs(last[0]!) < 0.5, `episode ${result.episode}: cart at ${last[0]}`);
  }
});
