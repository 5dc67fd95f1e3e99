import { z } from 'zod';
import type { ContinuousDynamics } from '../dynamics.js';
import { continuousDynamics, defineRobot } from './robot-descriptor.js';

/**
 * Pendulum: a uniform rod on a motor-driven hinge. theta = 0 is upright, theta = pi hangs.
 * State [theta, theta_dot]; action [u], hinge torque = gear * u (N m).
 * Written three times, side by side: TypeScript (derivatives), C (native/kernels/robots/pendulum.h)
 * and WGSL (wgsl), all reading the constants computed here.
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

/** The constants the equation of motion uses (also by the native and WGSL versions of it). */
export function pendulumConstants(p: PendulumParams): { mgl: number; J: number } {
  const l = p.length / 2;
  return { mgl: p.mass * p.gravity * l, J: p.inertia ?? (p.mass * p.length * p.length) / 3 };
}

export const pendulumRobot = defineRobot({
  name: 'pendulum',
  params: pendulumParams,
  stateNames: ['theta', 'theta_dot'],
  actionNames: ['u'],
  angular: [true, false],
  nq: 1,
  derivatives(p) {
    const { mgl, J } = pendulumConstants(p);
    const { damping: b, gear } = p;
    return (states, actions, deriv, count) => {
      for (let k = 0; k < count; k++) {
        const o = k * 2;
        const thd = states[o + 1]!;
        deriv[o] = thd;
        deriv[o + 1] = (mgl * Math.sin(states[o]!) - b * thd + gear * actions[k]!) / J;
      }
    };
  },
  native: {
    kernel: 'pendulum',
    paramNames: ['mgl', 'J', 'b', 'gear'],
    paramBlock(p) {
      const { mgl, J } = pendulumConstants(p);
      return Float64Array.of(mgl, J, p.damping, p.gear);
    },
  },
  wgsl: {
    dynamics(p, refs) {
      const { mgl, J } = pendulumConstants(p);
      return /* wgsl */ `
fn dynamics(s: array<f32, 2>, a: array<f32, 1>) -> array<f32, 2> {
  let mgl = ${refs.ref(mgl)};
  let b = ${refs.ref(p.damping)};
  let gear = ${refs.ref(p.gear)};
  let J = ${refs.ref(J)};
  let thd = s[1];
  return array<f32, 2>(thd, (mgl * mpcd_sin(s[0]) - b * thd + gear * a[0]) / J);
}
`;
    },
  },
});

export function pendulum(p: PendulumParams): ContinuousDynamics {
  return continuousDynamics(pendulumRobot, p);
}
