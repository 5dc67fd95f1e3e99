import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { cartpole, cartpoleParams } from '../../src/models/analytic/cartpole.js';
import { pendulum, pendulumParams } from '../../src/models/analytic/pendulum.js';
import type { ContinuousDynamics, DynamicsModel } from '../../src/models/dynamics.js';
import { discretize, type IntegratorKind } from '../../src/models/integrators.js';

const KINDS: readonly IntegratorKind[] = ['rk4', 'semi_implicit_euler'];

/** Steps one sample `steps` times with a constant action, calling `visit` after every step. */
function simulate(
  model: DynamicsModel,
  x0: readonly number[],
  action: readonly number[],
  dt: number,
  steps: number,
  visit: (state: Float32Array, step: number) => void = () => {},
): Float32Array {
  let s = Float32Array.from(x0);
  let o = new Float32Array(s.length);
  const a = Float32Array.from(action);
  for (let i = 0; i < steps; i++) {
    model.step(s, a, o, 1, dt);
    [s, o] = [o, s];
    visit(s, i + 1);
  }
  return s;
}

// The pendulum's closed-form quantities, from its documented parameters (uniform rod on a hinge,
// centre of mass at half the length, theta = 0 upright, theta = pi hanging).
const pend = pendulumParams.parse({});
const pendJ = (pend.mass * pend.length * pend.length) / 3;
const pendMgl = pend.mass * pend.gravity * (pend.length / 2);
/** E = J thd^2 / 2 + m g l cos(theta) (potential measured from the hinge, up is positive). */
const pendEnergy = (s: Float32Array): number => 0.5 * pendJ * s[1]! ** 2 + pendMgl * Math.cos(s[0]!);

/** Times of upward zero crossings of `signal` (linear interpolation between samples). */
function upwardCrossings(signal: readonly number[], dt: number): number[] {
  const times: number[] = [];
  for (let i = 1; i < signal.length; i++) {
    const a = signal[i - 1]!;
    const b = signal[i]!;
    if (a < 0 && b >= 0) times.push((i - 1 + a / (a - b)) * dt);
  }
  return times;
}

describe('pendulum: small oscillations around the hanging position', () => {
  const variants = [
    { name: 'uniform rod (default inertia)', params: pend, J: pendJ },
    { name: 'explicit inertia', params: pendulumParams.parse({ mass: 2, length: 0.8, inertia: 0.6 }), J: 0.6 },
  ];
  for (const kind of KINDS) {
    for (const v of variants) {
      it(`${kind}, ${v.name}: the period is 2 pi sqrt(J / (m g l))`, () => {
        const mgl = v.params.mass * v.params.gravity * (v.params.length / 2);
        const T = 2 * Math.PI * Math.sqrt(v.J / mgl);
        const dt = 0.01;
        const model = discretize(pendulum(v.params), kind, 2, 1);
        const amp = 0.05;
        const phi: number[] = [amp];
        simulate(model, [Math.PI + amp, 0], [0], dt, Math.round((10.5 * T) / dt), (s) => phi.push(s[0]! - Math.PI));
        const crossings = upwardCrossings(phi, dt);
        assert.ok(crossings.length >= 10, `${crossings.length} crossings`);
        const measured = (crossings[crossings.length - 1]! - crossings[0]!) / (crossings.length - 1);
        // The small-angle period, within 1e-3.
        assert.ok(Math.abs(measured / T - 1) < 1e-3, `period ${measured} s vs ${T} s`);
        // Tighter: with the first finite-amplitude correction T (1 + amp^2 / 16) (1.6e-4 here) the
        // rest is the integrator's phase error, (omega h)^2 / 24 < 4e-5 for semi-implicit Euler at
        // h = 5 ms and far less for RK4 (observed 1e-6).
        const corrected = T * (1 + (amp * amp) / 16);
        assert.ok(Math.abs(measured / corrected - 1) < 1e-4, `period ${measured} s vs ${corrected} s`);
        // And it oscillates around the hanging position rather than drifting off it.
        assert.ok(phi.every((p) => Math.abs(p) < 1.01 * amp), 'amplitude grew');
      });
    }
  }

  it('upright is unstable and hanging is stable', () => {
    const model = discretize(pendulum(pend), 'rk4', 2, 1);
    const up = simulate(model, [0.01, 0], [0], 0.01, 100);
    assert.ok(Math.abs(up[0]!) > 0.5, `upright drifted only to ${up[0]}`);
    let maxDev = 0;
    simulate(model, [Math.PI + 0.01, 0], [0], 0.01, 100, (s) => (maxDev = Math.max(maxDev, Math.abs(s[0]! - Math.PI))));
    assert.ok(maxDev < 0.0101, `hanging deviated by ${maxDev}`);
  });

  it('a positive action is a positive torque (accelerates theta upward)', () => {
    const model = discretize(pendulum(pend), 'rk4', 1, 1);
    const s = simulate(model, [Math.PI, 0], [0.5], 0.01, 5);
    assert.ok(s[1]! > 0 && s[0]! > Math.PI, `theta ${s[0]}, theta_dot ${s[1]}`);
  });
});

describe('pendulum energy', () => {
  it('RK4 conserves energy over 10 s with no damping and no action', () => {
    for (const theta0 of [0.3, Math.PI - 0.5]) {
      const model = discretize(pendulum(pend), 'rk4', 1, 1);
      const E0 = pendEnergy(Float32Array.of(theta0, 0));
      let maxDev = 0;
      simulate(model, [theta0, 0], [0], 0.01, 1000, (s) => (maxDev = Math.max(maxDev, Math.abs(pendEnergy(s) - E0))));
      // Observed ~2e-6 m g l (float32 state rounding dominates RK4's own O(h^4) error); a swing
      // from 0.3 rad off upright passes the bottom at ~11 rad/s.
      assert.ok(maxDev < 2e-5 * pendMgl, `theta0 ${theta0}: energy deviation ${maxDev / pendMgl} m g l`);
    }
  });

  it('semi-implicit Euler keeps energy bounded (no drift growth) over 200 s', () => {
    const model = discretize(pendulum(pend), 'semi_implicit_euler', 1, 1);
    const dt = 0.01;
    const steps = 20000;
    const E0 = pendEnergy(Float32Array.of(0.3, 0));
    let first = 0;
    let last = 0;
    simulate(model, [0.3, 0], [0], dt, steps, (s, i) => {
      const d = Math.abs(pendEnergy(s) - E0);
      if (i <= 2000) first = Math.max(first, d);
      if (i > steps - 2000) last = Math.max(last, d);
    });
    // Symplectic: the energy error oscillates with amplitude O(h) (observed ~0.04 m g l for this
    // large swing) and does not grow: the last 20 s look like the first 20 s.
    assert.ok(first > 0 && first < 0.1 * pendMgl, `first 20 s: ${first / pendMgl} m g l`);
    assert.ok(last <= 1.1 * first, `energy error grew from ${first} to ${last}`);
  });

  for (const kind of KINDS) {
    it(`${kind}: viscous damping only removes energy`, () => {
      const params = pendulumParams.parse({ damping: 0.02 });
      const model = discretize(pendulum(params), kind, 2, 1);
      const E0 = pendEnergy(Float32Array.of(1, 0));
      let prev = E0;
      let E = E0;
      simulate(model, [1, 0], [0], 0.01, 500, (s) => {
        E = pendEnergy(s);
        // dE/dt = -b thd^2 <= 0; near turning points it is ~0 and the integrator's own error could
        // show, so a rise far below the O(h) error of semi-implicit Euler is tolerated (none seen).
        assert.ok(E <= prev + 1e-4 * pendMgl, `energy rose from ${prev} to ${E}`);
        prev = E;
      });
      assert.ok(E < E0 - 0.05 * pendMgl, `energy ${E} vs initial ${E0}`);
    });
  }
});

describe('batched steps', () => {
  const models: [string, ContinuousDynamics][] = [
    ['pendulum', pendulum(pendulumParams.parse({ damping: 0.1 }))],
    ['cartpole', cartpole(cartpoleParams.parse({ cart_damping: 0.2, pole_damping: 0.01 }))],
  ];
  for (const kind of KINDS) {
    for (const [name, dyn] of models) {
      it(`${kind}, ${name}: a batch of K samples equals K single-sample steps`, () => {
        const K = 7;
        const maxBatch = 10;
        const nx = dyn.stateNames.length;
        const nu = dyn.actionNames.length;
        const model = discretize(dyn, kind, 3, maxBatch);
        const rng = new Rng(17);
        const states = Float32Array.from({ length: maxBatch * nx }, () => 2 * rng.normal());
        const actions = Float32Array.from({ length: maxBatch * nu }, () => rng.normal());
        const statesCopy = Float32Array.from(states);
        const out = new Float32Array(maxBatch * nx).fill(Number.NaN);
        model.step(states, actions, out, K, 0.02);
        assert.deepEqual(states, statesCopy, 'the input states were modified');
        for (let i = K * nx; i < maxBatch * nx; i++) assert.ok(Number.isNaN(out[i]!), `out[${i}] beyond count written`);
        const single = discretize(dyn, kind, 3, 1);
        const one = new Float32Array(nx);
        for (let k = 0; k < K; k++) {
          single.step(states.subarray(k * nx, (k + 1) * nx), actions.subarray(k * nu, (k + 1) * nu), one, 1, 0.02);
          assert.deepEqual(out.subarray(k * nx, (k + 1) * nx), one, `sample ${k}`);
          assert.ok(one.some((v, i) => v !== states[k * nx + i]), `sample ${k} did not move`);
        }
      });
    }
  }
});

describe('integration formulas on a double integrator (qdd = u)', () => {
  const doubleIntegrator: ContinuousDynamics = {
    stateNames: ['q', 'qd'],
    actionNames: ['u'],
    angular: [false, false],
    nq: 1,
    derivatives(states, actions, deriv, count) {
      for (let k = 0; k < count; k++) {
        deriv[2 * k] = states[2 * k + 1]!;
        deriv[2 * k + 1] = actions[k]!;
      }
    },
  };
  const [q0, v0, u, dt] = [0.5, -1.25, 3, 0.25];

  it('RK4 is exact (the trajectory is a quadratic in time)', () => {
    for (const substeps of [1, 4]) {
      const s = simulate(discretize(doubleIntegrator, 'rk4', substeps, 1), [q0, v0], [u], dt, 1);
      assert.ok(Math.abs(s[0]! - (q0 + v0 * dt + 0.5 * u * dt * dt)) < 1e-6, `q ${s[0]}`);
      assert.ok(Math.abs(s[1]! - (v0 + u * dt)) < 1e-6, `qd ${s[1]}`);
    }
  });

  it('semi-implicit Euler updates the velocity first, then the position with the new velocity', () => {
    for (const n of [1, 4]) {
      const h = dt / n;
      const s = simulate(discretize(doubleIntegrator, 'semi_implicit_euler', n, 1), [q0, v0], [u], dt, 1);
      // v_i = v0 + i h u, q_n = q0 + h sum_{i=1..n} v_i = q0 + n h v0 + h^2 u n (n+1) / 2
      assert.ok(Math.abs(s[0]! - (q0 + n * h * v0 + (h * h * u * n * (n + 1)) / 2)) < 1e-6, `n=${n}: q ${s[0]}`);
      assert.ok(Math.abs(s[1]! - (v0 + u * dt)) < 1e-6, `n=${n}: qd ${s[1]}`);
    }
  });

  it('rejects a bad substep count', () => {
    assert.throws(() => discretize(doubleIntegrator, 'rk4', 0, 1), RangeError);
    assert.throws(() => discretize(doubleIntegrator, 'semi_implicit_euler', 1.5, 1), RangeError);
  });
});

describe('cart-pole physics and sign conventions', () => {
  const cp = cartpoleParams.parse({});
  const l = cp.pole_length / 2;
  const J = (cp.pole_mass * cp.pole_length ** 2) / 12 + cp.pole_mass * l * l; // about the hinge
  const Mt = cp.cart_mass + cp.pole_mass;
  const ml = cp.pole_mass * l;

  for (const kind of KINDS) {
    it(`${kind}: zero action from upright at rest stays put (equilibrium)`, () => {
      for (const x0 of [0, 0.7]) {
        const s = simulate(discretize(cartpole(cp), kind, 2, 1), [x0, 0, 0, 0], [0], 0.02, 250);
        assert.deepEqual(Array.from(s), [Math.fround(x0), 0, 0, 0]);
      }
    });

    it(`${kind}: a positive force pushes the cart toward +x and tips the pole toward negative theta`, () => {
      const model = discretize(cartpole(cp), kind, 2, 1);
      const s = simulate(model, [0, 0, 0, 0], [1], 0.02, 10);
      const [x, th, xd, thd] = Array.from(s) as [number, number, number, number];
      assert.ok(x > 0 && xd > 0, `cart x ${x}, x_dot ${xd}`);
      assert.ok(th < 0 && thd < 0, `pole theta ${th}, theta_dot ${thd}`);
      // A negative force mirrors the motion exactly.
      const m = simulate(model, [0, 0, 0, 0], [-1], 0.02, 10);
      assert.deepEqual(Array.from(m), Array.from(s, (v) => -v));
    });

    it(`${kind}: a pole tipped toward +x falls further toward +x and pushes the cart toward -x`, () => {
      const s = simulate(discretize(cartpole(cp), kind, 2, 1), [0, 0.1, 0, 0], [0], 0.02, 10);
      assert.ok(s[1]! > 0.1 && s[3]! > 0, `theta ${s[1]}, theta_dot ${s[3]}`);
      assert.ok(s[0]! < 0 && s[2]! < 0, `x ${s[0]}, x_dot ${s[2]}`);
    });
  }

  it('initial accelerations under a force match the closed form', () => {
    const dyn = cartpole(cp);
    const deriv = new Float32Array(4);
    dyn.derivatives(new Float32Array(4), Float32Array.of(1), deriv, 1);
    const F = cp.gear * 1;
    const det = Mt * J - ml * ml;
    assert.ok(Math.abs(deriv[2]! - (J * F) / det) < 1e-5 * Math.abs((J * F) / det), `x_ddot ${deriv[2]}`);
    assert.ok(Math.abs(deriv[3]! - (-ml * F) / det) < 1e-5 * Math.abs((ml * F) / det), `theta_ddot ${deriv[3]}`);
    assert.equal(deriv[0], 0);
    assert.equal(deriv[1], 0);
  });

  it('RK4 with no force and no damping conserves energy and horizontal momentum', () => {
    const energy = (s: Float32Array): number =>
      0.5 * Mt * s[2]! ** 2 + ml * Math.cos(s[1]!) * s[2]! * s[3]! + 0.5 * J * s[3]! ** 2 + ml * cp.gravity * Math.cos(s[1]!);
    const momentum = (s: Float32Array): number => Mt * s[2]! + ml * Math.cos(s[1]!) * s[3]!;
    const x0 = [0, 0.5, 0.3, -1];
    const E0 = energy(Float32Array.from(x0));
    const p0 = momentum(Float32Array.from(x0));
    let dE = 0;
    let dp = 0;
    const end = simulate(discretize(cartpole(cp), 'rk4', 1, 1), x0, [0], 0.01, 500, (s) => {
      dE = Math.max(dE, Math.abs(energy(s) - E0));
      dp = Math.max(dp, Math.abs(momentum(s) - p0));
    });
    assert.ok(Math.abs(end[1]!) > 2, 'the pole should have swung through large angles');
    // Observed ~6e-7 J and ~5e-7 kg m/s over these 5 s; the scale is m g l = 0.49 J.
    assert.ok(dE < 1e-5, `energy deviation ${dE} J`);
    assert.ok(dp < 1e-5, `momentum deviation ${dp} kg m/s`);
  });
});
