import { z } from 'zod';
import type { ContinuousDynamics } from '../dynamics.js';
import { continuousDynamics, defineRobot } from './robot-descriptor.js';

/**
 * Cart-pole: a cart on a rail (x, m) carrying a uniform pole on a hinge (theta, rad).
 * theta = 0 is upright, theta = pi hangs; positive theta tips the pole toward +x.
 * State [x, theta, x_dot, theta_dot]; action [u], cart force = gear * u (N).
 * Written three times, side by side: TypeScript (derivatives), C (native/kernels/robots/cartpole.h)
 * and WGSL (wgsl), all reading the constants computed here.
 */
export const cartpoleParams = z
  .object({
    cart_mass: z.number().positive().default(1.0).describe('kg'),
    pole_mass: z.number().positive().default(0.1).describe('kg'),
    pole_length: z.number().positive().default(1.0).describe('full length of the pole, m; its centre of mass is at half'),
    pole_inertia: z.number().positive().optional().describe('about the centre of mass, kg m^2; default a uniform rod'),
    cart_damping: z.number().nonnegative().default(0).describe('viscous, N s/m'),
    pole_damping: z.number().nonnegative().default(0).describe('viscous at the hinge, N m s/rad'),
    gear: z.number().positive().default(10).describe('N of cart force per unit of action'),
    gravity: z.number().positive().default(9.81).describe('m/s^2'),
  })
  .strict();
export type CartpoleParams = z.infer<typeof cartpoleParams>;

/** The constants the equations of motion use (also by the native and WGSL versions of them). */
export function cartpoleConstants(p: CartpoleParams): { ml: number; Mt: number; J: number } {
  const m = p.pole_mass;
  const l = p.pole_length / 2; // centre of mass
  const I = p.pole_inertia ?? (m * p.pole_length * p.pole_length) / 12;
  return { ml: m * l, Mt: p.cart_mass + m, J: I + m * l * l /* about the hinge */ };
}

export const cartpoleRobot = defineRobot({
  name: 'cartpole',
  params: cartpoleParams,
  stateNames: ['x', 'theta', 'x_dot', 'theta_dot'],
  actionNames: ['u'],
  angular: [false, true, false, false],
  nq: 2,
  derivatives(p) {
    const { ml, Mt, J } = cartpoleConstants(p);
    const { cart_damping: bx, pole_damping: bth, gear, gravity: g } = p;
    return (states, actions, deriv, count) => {
      for (let k = 0; k < count; k++) {
        const o = k * 4;
        const th = states[o + 1]!;
        const xd = states[o + 2]!;
        const thd = states[o + 3]!;
        const s = Math.sin(th);
        const c = Math.cos(th);
        // Lagrange equations:  [Mt  ml c] [xdd ]   [F - bx xd + ml s thd^2]
        //                      [ml c  J  ] [thdd] = [ml g s - bth thd      ]
        const f1 = gear * actions[k]! - bx * xd + ml * s * thd * thd;
        const f2 = ml * g * s - bth * thd;
        const b = ml * c;
        const det = Mt * J - b * b;
        deriv[o] = xd;
        deriv[o + 1] = thd;
        deriv[o + 2] = (J * f1 - b * f2) / det;
        deriv[o + 3] = (Mt * f2 - b * f1) / det;
      }
    };
  },
  native: {
    kernel: 'cartpole',
    paramNames: ['Mt', 'J', 'ml', 'g', 'bx', 'bth', 'gear'],
    paramBlock(p) {
      const { Mt, J, ml } = cartpoleConstants(p);
      return Float64Array.of(Mt, J, ml, p.gravity, p.cart_damping, p.pole_damping, p.gear);
    },
  },
  wgsl: {
    dynamics(p, refs) {
      const { ml, Mt, J } = cartpoleConstants(p);
      return /* wgsl */ `
fn dynamics(s: array<f32, 4>, a: array<f32, 1>) -> array<f32, 4> {
  let gear = ${refs.ref(p.gear)};
  let bx = ${refs.ref(p.cart_damping)};
  let bth = ${refs.ref(p.pole_damping)};
  let ml = ${refs.ref(ml)};
  let mlg = ${refs.ref(ml * p.gravity)};
  let Mt = ${refs.ref(Mt)};
  let J = ${refs.ref(J)};
  let MtJ = ${refs.ref(Mt * J)};
  let xd = s[2];
  let thd = s[3];
  let sc = mpcd_sincos(s[1]);
  let f1 = gear * a[0] - bx * xd + ml * sc.x * thd * thd;
  let f2 = mlg * sc.x - bth * thd;
  let b = ml * sc.y;
  let det = MtJ - b * b;
  return array<f32, 4>(xd, thd, (J * f1 - b * f2) / det, (Mt * f2 - b * f1) / det);
}
`;
    },
  },
});

export function cartpole(p: CartpoleParams): ContinuousDynamics {
  return continuousDynamics(cartpoleRobot, p);
}
