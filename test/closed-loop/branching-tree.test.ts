import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { plantOpener } from '../../src/cli/open-plant.js';
import { loadConfig } from '../../src/config/load-config.js';
import { SimSession } from '../../src/loop/sim-session.js';

// A robot no code knows: an MJCF written only for the tests (a torso with two 2-link arms, a body
// with two joints, a slide in the tree, motor, position, velocity and general actuators) and a
// config are all it takes to plan for it. The plant runs the same file in MuJoCo.
const xml = join(import.meta.dirname, '..', '..', '..', 'test', 'models', 'rigid-body', 'branching-tree.xml');
const tmp = mkdtempSync(join(tmpdir(), 'mpcd-branching-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const joints = ['waist', 'left_shoulder_pitch', 'left_shoulder_roll', 'left_elbow', 'right_shoulder', 'right_extend'];
const actuators = ['waist_motor', 'left_pitch_motor', 'left_roll_servo', 'left_elbow_speed', 'right_shoulder_motor', 'right_extend_motor'];
const each = (names: string[], v: string): string => `{ ${names.map((n) => `${n}: ${v}`).join(', ')} }`;
// A target the left hand reaches at q = [0.2, 0.5, 0.2, -0.6, 0, 0] (forward kinematics of the file), 23 cm from its start.
const config = `
name: branching-tree-reach
seed: 2
model: { kind: rigid_body, mjcf: ${xml}, integrator: semi_implicit_euler, substeps: 10 }
control: { period: 0.02, action_bounds: { waist_motor: [-1, 1], left_pitch_motor: [-1, 1], left_roll_servo: [-1.5, 1.5], left_elbow_speed: [-4, 4], right_shoulder_motor: [-1, 1], right_extend_motor: [-1, 1] } }
planner: { kind: mppi, samples: 1024, horizon: 25, iterations: 3, temperature: 5, noise_std: { waist_motor: 0.1, left_pitch_motor: 0.3, left_roll_servo: 0.3, left_elbow_speed: 0.5, right_shoulder_motor: 0.1, right_extend_motor: 0.1 }, noise_smoothing: 0.6 }
task:
  params: { tx: -0.297, ty: 0.281, tz: 0.930 }
  points: { hand: { site: left_hand } }
  cost:
    - { kind: expression, name: reach, expr: "1000*((hand_x - tx)^2 + (hand_y - ty)^2 + (hand_z - tz)^2) + (hand_x_dot^2 + hand_y_dot^2 + hand_z_dot^2) + 2*(waist_dot^2 + left_shoulder_pitch_dot^2 + left_shoulder_roll_dot^2 + left_elbow_dot^2)", terminal_weight: 5 }
    - { kind: quadratic, name: posture, target: { waist: 0.2, left_shoulder_pitch: 0.5, left_shoulder_roll: 0.2, left_elbow: -0.6 }, weights: { waist: 2, left_shoulder_pitch: 0.5, left_shoulder_roll: 0.5, left_elbow: 0.5, right_extend: 5, right_shoulder: 0.1 } }
  success: { expr: "(hand_x - tx)^2 + (hand_y - ty)^2 + (hand_z - tz)^2 < 0.08^2", hold_seconds: 1 }
plant:
  kind: sim
  mjcf: ${xml}
  state: [${[...joints.map((j) => `{ name: ${j}, joint: ${j}, field: qpos }`), ...joints.map((j) => `{ name: ${j}_dot, joint: ${j}, field: qvel }`)].join(', ')}]
  actions: [${actuators.map((a) => `{ name: ${a}, actuator: ${a} }`).join(', ')}]
scenario: { episode_seconds: 3 }
safety: { safe_action: {} }
log: { enabled: false }
`;

test('an MJCF and a config are all a new robot needs: the left hand of the branching tree reaches its target (within 2 cm) and stays near it (within 8 cm for the last second)', async () => {
  const path = join(tmp, 'branching-tree.yaml');
  writeFileSync(path, config);
  const loaded = await loadConfig(path);
  const session = await SimSession.create(loaded, { openPlant: plantOpener(loaded), seed: 3 });
  try {
    const distances: number[] = [];
    const r = await session.runEpisode(0, (step) => {
      // The hand's point columns follow the 12 states in the rows the cost sees.
      const row = session.cost.withDerived(step.state, 1);
      distances.push(Math.hypot(row[12]! + 0.297, row[13]! - 0.281, row[14]! - 0.93));
    });
    assert.equal(r.steps, 150);
    assert.ok(distances[0]! > 0.2, `starts ${distances[0]} m away`);
    assert.ok(Math.min(...distances) < 0.02, `closest ${Math.min(...distances).toFixed(3)} m`);
    assert.ok(r.success, `the hand left the 8 cm ball in the last second: within ${Math.max(...distances.slice(-50)).toFixed(3)} m`);
  } finally {
    await session.close();
  }
});
