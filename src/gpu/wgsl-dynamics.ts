import type { Config } from '../config/schema.js';
import { cartpoleConstants, type CartpoleParams } from '../models/analytic/cartpole.js';
import type { PendulumParams } from '../models/analytic/pendulum.js';
import type { ParamBlock } from './param-block.js';

/**
 * The analytic robots' continuous dynamics in WGSL, one function
 *   fn dynamics(s: array<f32, nx>, a: array<f32, nu>) -> array<f32, nx>   (d/dt of the state)
 * per robot, line for line the arithmetic of src/models/analytic/<robot>.ts. Constants derived
 * from the params are computed here in float64, as the TypeScript does once per model, and
 * read from the params buffer.
 */
type WgslDynamics = (params: never, block: ParamBlock) => string;

function cartpoleWgsl(p: CartpoleParams, block: ParamBlock): string {
  const { ml, Mt, J } = cartpoleConstants(p);
  return /* wgsl */ `
fn dynamics(s: array<f32, 4>, a: array<f32, 1>) -> array<f32, 4> {
  let gear = ${block.ref(p.gear)};
  let bx = ${block.ref(p.cart_damping)};
  let bth = ${block.ref(p.pole_damping)};
  let ml = ${block.ref(ml)};
  let mlg = ${block.ref(ml * p.gravity)};
  let Mt = ${block.ref(Mt)};
  let J = ${block.ref(J)};
  let MtJ = ${block.ref(Mt * J)};
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
}

function pendulumWgsl(p: PendulumParams, block: ParamBlock): string {
  const l = p.length / 2;
  const J = p.inertia ?? (p.mass * p.length * p.length) / 3;
  return /* wgsl */ `
fn dynamics(s: array<f32, 2>, a: array<f32, 1>) -> array<f32, 2> {
  let mgl = ${block.ref(p.mass * p.gravity * l)};
  let b = ${block.ref(p.damping)};
  let gear = ${block.ref(p.gear)};
  let J = ${block.ref(J)};
  let thd = s[1];
  return array<f32, 2>(thd, (mgl * mpcd_sin(s[0]) - b * thd + gear * a[0]) / J);
}
`;
}

const WGSL_DYNAMICS: Readonly<Record<string, WgslDynamics>> = {
  cartpole: cartpoleWgsl,
  pendulum: pendulumWgsl,
};

/** The robot's `dynamics` WGSL function, or undefined when none is written for it. */
export function emitDynamics(model: Config['model'], block: ParamBlock): string | undefined {
  const emit = WGSL_DYNAMICS[model.robot] as ((params: unknown, block: ParamBlock) => string) | undefined;
  return emit?.(model.params, block);
}
