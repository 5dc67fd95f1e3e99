import { z } from 'zod';
import type { ContinuousDynamics } from '../dynamics.js';

/**
 * Pendulum: a uniform rod on a motor-driven hinge. theta = 0 is upright, theta = pi hangs.
 * State [theta, theta_dot]; action [u], hinge torque = gear * u (N m).
 */
export const pendulumParams = z
  .object({
    mass: z.number().positive().default(1.0).describe('kg'),
    length: z.number().positive().default(0.5).describe('full length of the rod, m; its centre of mass is at half'),
    inertia: z.number().positive().optional().describe('about the hinge, kg m^2; default a uniform rod'),
    damping: z.number().nonnegative().default(0).describe('viscous at the hinge, N m s/rad'),
    gear: z.number().positive().default(1).describe('N m of torque per unit of action'),
    gravity: z.number().positive().default(9.81).describe('m/s^2'),
  })
  .strict();
export type PendulumParams = z.infer<typeof pendulumParams>;

export function pendulum(p: PendulumParams): ContinuousDynamics {
  const l = p.length / 2;
  const J = p.inertia ?? (p.mass * p.length * p.length) / 3;
  const mgl = p.mass * p.gravity * l;
  const { damping: b, gear } = p;
  return {
    stateNames: ['theta', 'theta_dot'],
    actionNames: ['u'],
    angular: [true, false],
    nq: 1,
    derivatives(states, actions, deriv, count) {
      for (let k = 0; k < count; k++) {
        const o = k * 2;
        const thd = states[o + 1]!;
        deriv[o] = thd;
        deriv[o + 1] = (mgl * Math.sin(states[o]!) - b * thd + gear * actions[k]!) / J;
      }
    },
  };
}
