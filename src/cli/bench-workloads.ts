import { parseConfigText } from '../config/load-config.js';
import type { Config } from '../config/schema.js';

/**
 * The fixed benchmark workloads. They never change with the examples in config/, so numbers
 * stay comparable across commits. W0: DESIGN's reference task with the analytic model only.
 */
export interface Workload {
  name: string;
  description: string;
  config: Config;
}

/** DESIGN's W1 residual: 5 members of 5 -> 64 -> 64 -> 2x4 MLPs, all used by the planner. */
const W1_RESIDUAL = 'residual: { members: 5, elites: 5, hidden: [64, 64], backend: auto }';

const cartpoleBase = (samples: number, horizon: number, residual = ''): string => `
name: bench
seed: 7
model: { robot: cartpole, integrator: rk4, substeps: 1${residual === '' ? '' : `, ${residual}`} }
control: { period: 0.02, action_bounds: { u: [-1, 1] } }
planner: { kind: mppi, samples: ${samples}, horizon: ${horizon}, iterations: 1, temperature: 1, noise_std: { u: 0.6 } }
task:
  cost:
    - { kind: expression, expr: "10*(1 - cos(theta)) + 1*x^2 + 0.1*x_dot^2 + 0.01*u^2 + 0.01*theta_dot^2", terminal_weight: 5 }
  success: { expr: "abs(wrap(theta)) < 0.2" }
plant:
  kind: sim
  mjcf: unused.xml
  state: [{ name: x, joint: slider, field: qpos }, { name: theta, joint: hinge, field: qpos }, { name: x_dot, joint: slider, field: qvel }, { name: theta_dot, joint: hinge, field: qvel }]
  actions: [{ name: u, actuator: cart_force }]
`;

export function workloads(): Workload[] {
  return [
    {
      name: 'W0',
      description: 'cart-pole, analytic model (RK4), MPPI, K=1024, H=30, 1 iteration',
      config: parseConfigText(cartpoleBase(1024, 30), 'bench W0'),
    },
    {
      name: 'W1',
      description: 'cart-pole, analytic RK4 + residual ensemble 5 x (64, 64) (seeded weights, one member per sample), MPPI, K=1024, H=30, 1 iteration',
      config: parseConfigText(cartpoleBase(1024, 30, W1_RESIDUAL), 'bench W1'),
    },
  ];
}

/** The start state of every benchmark iteration: the pole hanging, slightly off. */
export const benchState = Float32Array.from([0.05, 3.0, 0, 0.1]);
