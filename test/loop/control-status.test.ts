import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { plantOpener } from '../../src/cli/open-plant.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { ControlStatus } from '../../src/io/control-status.js';
import type { PlantPort } from '../../src/io/plant.js';
import { SimSession, type PlantOpener } from '../../src/loop/sim-session.js';

const configDir = join(import.meta.dirname, '..', '..', '..', 'config');

/** The simulator behind a plant that also carries status, as a robot's link does. */
function withStatus(open: PlantOpener, statuses: ControlStatus[]): PlantOpener {
  return async (names) => {
    const opened = await open(names);
    const target = opened.plant;
    const plant = new Proxy(target, {
      get(t, key) {
        if (key === 'reportStatus') return (s: ControlStatus) => statuses.push(structuredClone(s));
        const v = Reflect.get(t, key, t) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    }) as PlantPort;
    return { ...opened, plant };
  };
}

test('the control status comes at its rate with the goal, the state, the plan predicted from that state and each cost term', async () => {
  const loaded = await loadConfig(join(configDir, 'cartpole-swingup.yaml'));
  loaded.config.scenario.episode_seconds = 2;
  loaded.config.status.rate = 10;
  loaded.config.status.plan_states = 5;
  const statuses: ControlStatus[] = [];
  const seen: Float32Array[] = [];
  const session = await SimSession.create(loaded, { openPlant: withStatus(plantOpener(loaded), statuses), seed: 3 });
  try {
    await session.runEpisode(0, (step) => seen.push(Float32Array.from(step.state)));
  } finally {
    await session.close();
  }
  const c = loaded.config;
  const every = Math.round(1 / (10 * c.control.period));
  assert.equal(statuses.length, Math.ceil(Math.round(2 / c.control.period) / every));
  assert.deepEqual(statuses.map((s) => s.tick), statuses.map((_, i) => i * every));
  const names = ['x', 'theta', 'x_dot', 'theta_dot'];
  for (const s of statuses) {
    assert.equal(s.mode, 'running');
    assert.deepEqual(s.faults, []);
    assert.deepEqual(s.plan.state_names, names);
    assert.equal(s.plan.states.length, 6, 'the state planned from, then 5 predicted');
    assert.deepEqual(s.plan.states[0], names.map((n) => s.state[n]));
    assert.deepEqual(Object.keys(s.costs), c.task.cost.map((t, i) => t.name ?? `${t.kind}${i}`));
    for (const v of Object.values(s.costs)) assert.ok(Number.isFinite(v) && v >= 0);
    assert.ok(s.action !== null && Math.abs(s.action['u']!) <= 1 + 1e-6);
  }
  // The plan's first predicted state is where the plant went next, to the model's accuracy.
  const s = statuses[3]!;
  const actual = seen[s.tick + 1]!;
  const predicted = s.plan.states[1]!;
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(predicted[i]! - actual[i]!) < 0.05, `${names[i]}: predicted ${predicted[i]}, went to ${actual[i]}`);
});
