import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { MujocoPlant } from '../../sim/mujoco-plant.js';
import { plantOpener } from '../../src/cli/open-plant.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { ControlStep } from '../../src/loop/control-loop.js';
import { SimSession } from '../../src/loop/sim-session.js';

// In real time the sim runs on its own clock beside the control loop's ticks. Each logged
// transition must still be what the plant did: from the tick's state, the action sent at that
// tick, held for one period, gives the next tick's state. This is what a residual learns from.
const configDir = join(import.meta.dirname, '..', '..', '..', 'config');

test('real-time sim: every transition the loop records is one period of the plant under the action sent', async () => {
  const loaded = await loadConfig(join(configDir, 'cartpole-swingup.yaml'));
  const c = loaded.config;
  // A small planner (a few ms a tick even on a loaded 2-core machine), so nearly every tick's
  // action lands in its own period and can be checked; what is checked is the logging, not speed.
  const short = { ...loaded, config: { ...c, planner: { ...c.planner, samples: 128 }, scenario: { ...c.scenario, episode_seconds: 1.5 } } };
  const session = await SimSession.create(short, { openPlant: plantOpener(short, { realtime: true }), seed: 5, realtime: true });
  const steps: ControlStep[] = [];
  try {
    await session.runEpisode(0, (s) => steps.push(s));
  } finally {
    await session.close();
  }
  if (c.plant.kind !== 'sim') throw new Error('cartpole-swingup.yaml plans for the in-process sim');
  const replay = await MujocoPlant.create({
    mjcfPath: resolve(loaded.dir, c.plant.mjcf),
    state: c.plant.state,
    actions: c.plant.actions,
    controlPeriod: c.control.period,
    mode: 'lockstep',
  });
  let next: ArrayLike<number> | undefined;
  const sub = replay.observations$.subscribe((o) => (next = o.values));
  const periodMs = 1000 * c.control.period;
  let checked = 0;
  const wrong: string[] = [];
  try {
    for (let k = 0; k + 1 < steps.length; k++) {
      const s = steps[k]!;
      const after = steps[k + 1]!;
      // A plan that took most of the period may land its action a period late: a real overrun, not a logging error.
      if (s.action === undefined || after.dropped > 0 || s.planMs > periodMs - 5) continue;
      replay.reset(s.state);
      replay.send(s.action);
      const got = next!;
      const err = Math.max(...Array.from(after.state, (v, i) => Math.abs(v - got[i]!)));
      if (err > 1e-3) wrong.push(`tick ${s.index}: |s' - plant(s, a)| = ${err.toExponential(2)}`);
      checked++;
    }
  } finally {
    sub.unsubscribe();
    await replay.close();
  }
  assert.ok(checked >= 0.9 * (steps.length - 1), `only ${checked} of ${steps.length - 1} transitions could be checked`);
  assert.deepEqual(wrong, [], `${wrong.length} of ${checked} transitions are not what the plant did`);
});
