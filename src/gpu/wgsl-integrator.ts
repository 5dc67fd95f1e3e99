import type { IntegratorKind } from '../models/integrators.js';
import type { ParamBlock } from './param-block.js';

/**
 * One control period of the discretized model in WGSL, as src/models/integrators.ts computes it:
 *   fn integrate(s0: array<f32, nx>, a: array<f32, nu>) -> array<f32, nx>
 * calling the robot's `dynamics`, with `substeps` sub-steps and zero-order-hold actions. Loops
 * over state components are written out, so every array index is a constant.
 */
export function emitIntegrator(kind: IntegratorKind, substeps: number, nx: number, nu: number, dt: number, block: ParamBlock): string {
  const h = dt / substeps;
  const state = `array<f32, ${nx}>`;
  const each = (f: (i: number) => string): string => Array.from({ length: nx }, (_, i) => f(i)).join(', ');
  if (kind === 'rk4') {
    return /* wgsl */ `
fn integrate(s0: ${state}, a: array<f32, ${nu}>) -> ${state} {
  let h = ${block.ref(h)};
  let half_h = ${block.ref(0.5 * h)};
  let sixth_h = ${block.ref(h / 6)};
  var s = s0;
  for (var sub = 0u; sub < ${substeps}u; sub++) {
    let k1 = dynamics(s, a);
    let k2 = dynamics(${state}(${each((i) => `s[${i}] + half_h * k1[${i}]`)}), a);
    let k3 = dynamics(${state}(${each((i) => `s[${i}] + half_h * k2[${i}]`)}), a);
    let k4 = dynamics(${state}(${each((i) => `s[${i}] + h * k3[${i}]`)}), a);
    s = ${state}(${each((i) => `s[${i}] + sixth_h * (k1[${i}] + 2.0f * k2[${i}] + 2.0f * k3[${i}] + k4[${i}])`)});
  }
  return s;
}
`;
  }
  // Semi-implicit Euler: velocities from the accelerations, then positions from the new velocities.
  if (nx % 2 !== 0) throw new RangeError('semi-implicit Euler needs a [q, qdot] state layout');
  const nq = nx / 2;
  const updates = Array.from({ length: nq }, (_, j) => `    s[${nq + j}] = s[${nq + j}] + h * d[${nq + j}];\n    s[${j}] = s[${j}] + h * s[${nq + j}];\n`).join('');
  return /* wgsl */ `
fn integrate(s0: ${state}, a: array<f32, ${nu}>) -> ${state} {
  let h = ${block.ref(h)};
  var s = s0;
  for (var sub = 0u; sub < ${substeps}u; sub++) {
    let d = dynamics(s, a);
${updates}  }
  return s;
}
`;
}
