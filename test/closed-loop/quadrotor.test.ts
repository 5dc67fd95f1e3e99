import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import type { MjData, MjModel } from 'mujoco-js';
import { Subject } from 'rxjs';
import { loadConfig, type LoadedConfig } from '../../src/config/load-config.js';
import type { Observation, PlantPort } from '../../src/io/plant.js';
import type { OpenedPlant, PlantOpener } from '../../src/loop/sim-session.js';
import { SimSession } from '../../src/loop/sim-session.js';
import { getMujoco, loadMjcf, type Mujoco } from '../../src/models/rigid-body/mujoco-runtime.js';

// Closed loop, a free-flying robot: MPPI over the rigid-body model of the nominal quadrotor
// (a free joint, four site thrusters) flies the MuJoCo plant (heavier, centre of mass off the
// frame's centre, other inertia and thrust gear) to three waypoints in sequence, holding each
// within 15 cm and upright for its last 2 s (the config's success condition). Lock-step virtual time, fixed seed, two episodes.
const configFile = join(import.meta.dirname, '..', '..', '..', 'config', 'quadrotor-hover.yaml');

/**
 * A lock-step MuJoCo plant whose state is qpos then qvel whole, in MuJoCo's order, the model's
 * own layout for a tree whose joints are all modelled. The sim plant (sim/state-map.ts) maps
 * scalar joints one coordinate each, so it cannot read a free joint's seven yet.
 */
class WholeStatePlant implements PlantPort {
  readonly channels: PlantPort['channels'];
  private readonly subject = new Subject<Observation>();
  readonly observations$ = this.subject.asObservable();
  private closed = false;

  constructor(
    private readonly mj: Mujoco,
    private readonly model: MjModel,
    private readonly data: MjData,
    private readonly substeps: number,
    private readonly ctrlAdr: Int32Array,
  ) {
    this.channels = [{ name: 'state', slots: Array.from({ length: model.nq + model.nv }, (_, i) => i) }];
  }

  reset(initial: ArrayLike<number>): void {
    const { mj, model, data } = this;
    mj.mj_resetData(model, data);
    const qpos = data.qpos as Float64Array;
    const qvel = data.qvel as Float64Array;
    for (let i = 0; i < model.nq; i++) qpos[i] = initial[i]!;
    for (let i = 0; i < model.nv; i++) qvel[i] = initial[model.nq + i]!;
    mj.mj_forward(model, data);
    this.emit();
  }

  send(action: Float32Array): void {
    if (this.closed) return;
    const ctrl = this.data.ctrl as Float64Array;
    this.ctrlAdr.forEach((id, j) => (ctrl[id] = action[j]!));
    for (let s = 0; s < this.substeps; s++) this.mj.mj_step(this.model, this.data);
    this.emit();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subject.complete();
    this.data.delete();
    this.model.delete();
  }

  private emit(): void {
    const values = new Float64Array(this.model.nq + this.model.nv);
    values.set((this.data.qpos as Float64Array).subarray(0, this.model.nq));
    values.set((this.data.qvel as Float64Array).subarray(0, this.model.nv), this.model.nq);
    this.subject.next({ channel: 'state', stamp: this.data.time, values });
  }
}

function wholeStateOpener(loaded: LoadedConfig): PlantOpener {
  return async (names): Promise<OpenedPlant> => {
    const { plant, control } = loaded.config;
    assert.ok(plant.kind === 'sim');
    const mj = await getMujoco();
    const model = await loadMjcf(resolve(loaded.dir, plant.mjcf));
    assert.equal(names.stateNames.length, model.nq + model.nv, 'the model state is the plant qpos and qvel');
    const ctrlAdr = Int32Array.from(plant.actions, (a) => mj.mj_name2id(model, mj.mjtObj.mjOBJ_ACTUATOR.value, a.actuator));
    assert.ok(ctrlAdr.every((id) => id >= 0));
    const substeps = Math.round(control.period / model.opt.timestep);
    return { plant: new WholeStatePlant(mj, model, new mj.MjData(model), substeps, ctrlAdr), description: { kind: 'sim', mjcf: plant.mjcf, mode: 'lock-step virtual time' } };
  };
}

test('MPPI flies the quadrotor plant to three waypoints in sequence and holds each within 15 cm, upright', async () => {
  const loaded = await loadConfig(configFile);
  const { model, plant } = loaded.config;
  assert.ok(model.kind === 'rigid_body' && plant.kind === 'sim');
  assert.notEqual(plant.mjcf, model.mjcf, 'the plant must not be the nominal file');
  const session = await SimSession.create(loaded, { openPlant: wholeStateOpener(loaded), seed: 11 });
  try {
    for (let e = 0; e < 2; e++) {
      let lowest = Infinity;
      let worstTilt = 0;
      let last: Float32Array | undefined;
      const result = await session.runEpisode(e, (step) => {
        last = step.state;
        lowest = Math.min(lowest, step.state[2]!);
        // Tilt of the body's z axis from the world's: cos = 1 - 2 (qx^2 + qy^2).
        worstTilt = Math.max(worstTilt, Math.acos(Math.min(1, 1 - 2 * (step.state[4]! ** 2 + step.state[5]! ** 2))));
      });
      const at = Array.from(last!.subarray(0, 7), (v) => v.toFixed(3)).join(', ');
      assert.equal(result.goals, 3);
      assert.ok(result.success, `episode ${e}: ${result.goals_reached} of ${result.goals} waypoints held; final pose ${at}`);
      assert.ok(worstTilt < 0.8, `episode ${e}: tilted up to ${worstTilt.toFixed(2)} rad`);
      assert.ok(lowest > 0.2, `episode ${e}: down to ${lowest.toFixed(2)} m`);
    }
  } finally {
    await session.close();
  }
});
