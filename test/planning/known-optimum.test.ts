import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { ActionEffort } from '../../src/costs/action-effort.js';
import { QuadraticTracking } from '../../src/costs/quadratic-tracking.js';
import { TaskCost } from '../../src/costs/task-cost.js';
import type { DynamicsModel } from '../../src/models/dynamics.js';
import { Icem, type IcemOptions } from '../../src/planning/icem.js';
import { Mppi, type MppiOptions } from '../../src/planning/mppi.js';
import type { ActionBounds, Planner } from '../../src/planning/planner.js';
import { RolloutEngine } from '../../src/planning/rollout.js';

/*
 * Linear-quadratic problems whose finite-horizon optimum is known in closed form.
 *
 * Dynamics x_{t+1} = A x_t + B u_t (an exact discrete map, so no integrator error), cost as the
 * rollout engine charges it with QuadraticTracking + ActionEffort:
 *
 *   J(u) = sum_{t=1..H} c_t (x_t - xbar)' Q (x_t - xbar) + sum_{t=0..H-1} u_t' R u_t,
 *   c_t = wRun for t < H, wRun + wTerm at t = H       (running cost on the state reached,
 *                                                      terminal cost on top at the last one)
 *
 * With x_t - xbar = G_t u + f_t (G_t's block s < t is A^{t-1-s} B, f_t = A^t x0 - xbar):
 *
 *   J(u) = u' P u + 2 q' u + c0,  P = sum c_t G_t' Q G_t + R,  q = sum c_t G_t' Q f_t,
 *
 * and the unconstrained optimum solves P u* = -q (normal equations of the least-squares problem
 * in the H*nu actions). Because R = diag(r_j) > 0, P >= r_min I, so for any u
 *
 *   J(u) - J(u*) = (u - u*)' P (u - u*) >= r_min |u - u*|^2            (unconstrained)
 *
 * and the same inequality holds for the box-constrained optimum u_b and any feasible u (the
 * gradient term is >= 0 there by KKT). A relative cost gap `g` therefore bounds the plan error:
 * |u - u*|_2 <= sqrt(g J* / r_min). That is the plan tolerance used below; it is the justified
 * link between "the cost is near optimal" and "the plan is near the optimal sequence".
 */

interface LqSpec {
  A: number[][]; // [nx][nx]
  B: number[][]; // [nx][nu]
  x0: number[];
  target: number[]; // xbar
  q: number[]; // diag Q
  wRun: number;
  wTerm: number;
  effort: number[]; // diag R, r_j (ActionEffort entry weight j, term weight 1)
  H: number;
  dt: number;
}

const DT = 0.1;

/** A double integrator (position, velocity; force per unit mass), exact zero-order-hold map. */
const doubleIntegrator: LqSpec = {
  A: [
    [1, DT],
    [0, 1],
  ],
  B: [[(DT * DT) / 2], [DT]],
  x0: [-0.5, 0.3],
  target: [1, 0],
  q: [1, 0.1],
  wRun: 1,
  wTerm: 10,
  effort: [0.1],
  H: 15,
  dt: DT,
};

/**
 * A planar point mass whose first actuator is skewed (it also pushes y), with different effort
 * weights per action: checks that planners keep action dimensions apart.
 */
const skewedPointMass: LqSpec = {
  A: [
    [1, 0, DT, 0],
    [0, 1, 0, DT],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ],
  B: [
    [(DT * DT) / 2, 0],
    [(DT * DT) / 4, (DT * DT) / 2],
    [DT, 0],
    [DT / 2, DT],
  ],
  x0: [0, 0, 0, 0.5],
  target: [1, -0.5, 0, 0],
  q: [1, 1, 0.1, 0.1],
  wRun: 1,
  wTerm: 10,
  effort: [0.1, 0.3],
  H: 10,
  dt: DT,
};

const nxOf = (s: LqSpec): number => s.A.length;
const nuOf = (s: LqSpec): number => s.B[0]!.length;

/** The spec's dynamics as a batched DynamicsModel (float64 arithmetic, float32 storage). */
class LinearModel implements DynamicsModel {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  readonly angular: readonly boolean[];
  private readonly nx: number;
  private readonly nu: number;

  constructor(
    private readonly spec: LqSpec,
    readonly maxBatch: number,
  ) {
    this.nx = nxOf(spec);
    this.nu = nuOf(spec);
    this.stateNames = Array.from({ length: this.nx }, (_, i) => `x${i}`);
    this.actionNames = Array.from({ length: this.nu }, (_, j) => `u${j}`);
    this.angular = this.stateNames.map(() => false);
  }

  step(states: Float32Array, actions: Float32Array, out: Float32Array, count: number): void {
    const { nx, nu, spec } = this;
    for (let k = 0; k < count; k++) {
      for (let i = 0; i < nx; i++) {
        let v = 0;
        for (let j = 0; j < nx; j++) v += spec.A[i]![j]! * states[k * nx + j]!;
        for (let j = 0; j < nu; j++) v += spec.B[i]![j]! * actions[k * nu + j]!;
        out[k * nx + i] = v;
      }
    }
  }
}

/** J(u) by direct simulation in float64 (independent of the matrix construction below). */
function simulateCost(spec: LqSpec, u: ArrayLike<number>): number {
  const nx = nxOf(spec);
  const nu = nuOf(spec);
  let x = spec.x0.slice();
  let J = 0;
  for (let t = 0; t < spec.H; t++) {
    const next = new Array<number>(nx).fill(0);
    for (let i = 0; i < nx; i++) {
      let v = 0;
      for (let j = 0; j < nx; j++) v += spec.A[i]![j]! * x[j]!;
      for (let j = 0; j < nu; j++) v += spec.B[i]![j]! * u[t * nu + j]!;
      next[i] = v;
    }
    x = next;
    const c = spec.wRun + (t === spec.H - 1 ? spec.wTerm : 0);
    for (let i = 0; i < nx; i++) J += c * spec.q[i]! * (x[i]! - spec.target[i]!) ** 2;
    for (let j = 0; j < nu; j++) J += spec.effort[j]! * u[t * nu + j]! ** 2;
  }
  return J;
}

interface QuadForm {
  n: number;
  P: Float64Array; // [n, n]
  q: Float64Array; // [n]
  c0: number;
}

/** J(u) = u' P u + 2 q' u + c0, built from the matrices G_t and f_t. */
function quadraticForm(spec: LqSpec): QuadForm {
  const nx = nxOf(spec);
  const nu = nuOf(spec);
  const n = spec.H * nu;
  const P = new Float64Array(n * n);
  const q = new Float64Array(n);
  let c0 = 0;
  // G [nx, n] and the free response Ax [nx] = A^t x0, advanced together: G_{t+1} = A G_t + B e_t.
  let G = new Float64Array(nx * n);
  let Ax = Float64Array.from(spec.x0);
  for (let t = 1; t <= spec.H; t++) {
    const G2 = new Float64Array(nx * n);
    const Ax2 = new Float64Array(nx);
    for (let i = 0; i < nx; i++) {
      for (let col = 0; col < n; col++) {
        let v = 0;
        for (let k = 0; k < nx; k++) v += spec.A[i]![k]! * G[k * n + col]!;
        G2[i * n + col] = v;
      }
      for (let j = 0; j < nu; j++) G2[i * n + (t - 1) * nu + j] = G2[i * n + (t - 1) * nu + j]! + spec.B[i]![j]!;
      let v = 0;
      for (let k = 0; k < nx; k++) v += spec.A[i]![k]! * Ax[k]!;
      Ax2[i] = v;
    }
    G = G2;
    Ax = Ax2;
    const c = spec.wRun + (t === spec.H ? spec.wTerm : 0);
    for (let i = 0; i < nx; i++) {
      const w = c * spec.q[i]!;
      const f = Ax[i]! - spec.target[i]!;
      c0 += w * f * f;
      for (let a = 0; a < n; a++) {
        const ga = G[i * n + a]!;
        if (ga === 0) continue;
        q[a] = q[a]! + w * ga * f;
        for (let b = 0; b < n; b++) P[a * n + b] = P[a * n + b]! + w * ga * G[i * n + b]!;
      }
    }
  }
  for (let a = 0; a < n; a++) P[a * n + a] = P[a * n + a]! + spec.effort[a % nu]!;
  return { n, P, q, c0 };
}

function evalQuad(f: QuadForm, u: ArrayLike<number>): number {
  let J = f.c0;
  for (let a = 0; a < f.n; a++) {
    J += 2 * f.q[a]! * u[a]!;
    for (let b = 0; b < f.n; b++) J += u[a]! * f.P[a * f.n + b]! * u[b]!;
  }
  return J;
}

/** Gradient of J: 2 (P u + q). */
function gradient(f: QuadForm, u: ArrayLike<number>): Float64Array {
  const g = new Float64Array(f.n);
  for (let a = 0; a < f.n; a++) {
    let v = f.q[a]!;
    for (let b = 0; b < f.n; b++) v += f.P[a * f.n + b]! * u[b]!;
    g[a] = 2 * v;
  }
  return g;
}

/** Solves M x = rhs by Gaussian elimination with partial pivoting, in float64. */
function solve(M: Float64Array, rhs: Float64Array): Float64Array {
  const n = rhs.length;
  const a = Float64Array.from(M);
  const b = Float64Array.from(rhs);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]!) > Math.abs(a[p * n + c]!)) p = r;
    if (p !== c) {
      for (let k = 0; k < n; k++) {
        const t = a[c * n + k]!;
        a[c * n + k] = a[p * n + k]!;
        a[p * n + k] = t;
      }
      const t = b[c]!;
      b[c] = b[p]!;
      b[p] = t;
    }
    const d = a[c * n + c]!;
    assert.ok(Math.abs(d) > 1e-12, 'normal equations are singular');
    for (let r = c + 1; r < n; r++) {
      const m = a[r * n + c]! / d;
      if (m === 0) continue;
      for (let k = c; k < n; k++) a[r * n + k] = a[r * n + k]! - m * a[c * n + k]!;
      b[r] = b[r]! - m * b[c]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let k = r + 1; k < n; k++) s -= a[r * n + k]! * x[k]!;
    x[r] = s / a[r * n + r]!;
  }
  return x;
}

/** Unconstrained optimum: P u = -q. */
function optimum(f: QuadForm): Float64Array {
  return solve(f.P, f.q.map((v) => -v));
}

/**
 * Box-constrained optimum by projected Gauss-Seidel (cyclic coordinate descent with exact
 * minimization per coordinate, then clamping), which converges for a strictly convex QP. The
 * result is checked against the KKT conditions by the caller.
 */
function boxOptimum(f: QuadForm, nu: number, bounds: ActionBounds): Float64Array {
  const { n, P, q } = f;
  const u = new Float64Array(n);
  for (let sweep = 0; sweep < 20000; sweep++) {
    let change = 0;
    for (let a = 0; a < n; a++) {
      let s = q[a]!;
      for (let b = 0; b < n; b++) if (b !== a) s += P[a * n + b]! * u[b]!;
      const j = a % nu;
      const v = Math.min(bounds.high[j]!, Math.max(bounds.low[j]!, -s / P[a * n + a]!));
      change = Math.max(change, Math.abs(v - u[a]!));
      u[a] = v;
    }
    if (change < 1e-15) break;
  }
  return u;
}

function taskCost(spec: LqSpec): TaskCost {
  const nx = nxOf(spec);
  const nu = nuOf(spec);
  return new TaskCost([
    new QuadraticTracking(
      'track',
      nx,
      spec.q.map((w, i) => ({ index: i, target: spec.target[i]!, weight: w, angular: false })),
      spec.wRun,
      spec.wTerm,
    ),
    new ActionEffort(
      'effort',
      nu,
      spec.effort.map((w, j) => ({ index: j, weight: w })),
      1,
    ),
  ]);
}

function engineFor(spec: LqSpec, maxSamples: number): RolloutEngine {
  const nu = nuOf(spec);
  const actions = new Float32Array(spec.H * maxSamples * nu);
  return new RolloutEngine(new LinearModel(spec, maxSamples), taskCost(spec), maxSamples, spec.H, spec.dt, actions);
}

function unbounded(nu: number): ActionBounds {
  return { low: new Float32Array(nu).fill(-Infinity), high: new Float32Array(nu).fill(Infinity) };
}

type MppiTuning = Omit<MppiOptions, 'horizon' | 'bounds' | 'noiseStd'> & { noiseStd: number[] };
type IcemTuning = Omit<IcemOptions, 'horizon' | 'bounds' | 'initStd'> & { initStd: number[] };

const rngOf = (seed: number | Rng): Rng => (typeof seed === 'number' ? new Rng(seed) : seed);

function makeMppi(spec: LqSpec, t: MppiTuning, bounds: ActionBounds, seed: number | Rng, maxSamples = t.samples): Mppi {
  const nu = nuOf(spec);
  const opts: MppiOptions = { ...t, horizon: spec.H, bounds, noiseStd: Float32Array.from(t.noiseStd.slice(0, nu)) };
  return new Mppi(engineFor(spec, maxSamples), opts, rngOf(seed));
}

function makeIcem(spec: LqSpec, t: IcemTuning, bounds: ActionBounds, seed: number | Rng, maxSamples = t.samples): Icem {
  const nu = nuOf(spec);
  const opts: IcemOptions = { ...t, horizon: spec.H, bounds, initStd: Float32Array.from(t.initStd.slice(0, nu)) };
  return new Icem(engineFor(spec, maxSamples), opts, rngOf(seed));
}

// Tunings. MPPI: a low temperature (costs are O(10); lambda = 1e-3 puts nearly all the weight on
// the few best samples) and small noise (the plan's stationary jitter around the optimum scales
// with it), with enough iterations from the same state (50 calls x 10) for the plan to travel from
// zero to actions of up to ~3.5. Higher temperatures converge too, but average clamped samples more,
// which pulls a bounded plan off its bound. iCEM/CEM: the std is reset to initStd every call and
// shrinks over the call's iterations, so a few iterations per call suffice.
const mppiWhite: MppiTuning = { samples: 256, iterations: 10, temperature: 1e-3, noiseStd: [0.05, 0.05], noiseSmoothing: 0 };
const mppiSmooth: MppiTuning = { ...mppiWhite, noiseSmoothing: 0.8 };
const icemBest: IcemTuning = {
  samples: 512,
  iterations: 8,
  eliteFraction: 0.1,
  keepElites: 0.3,
  populationDecay: 1,
  beta: 2,
  initStd: [1, 1],
  momentum: 0.1,
  execute: 'best',
};
const cemMean: IcemTuning = { ...icemBest, beta: 1, populationDecay: 1.25, execute: 'mean' };

interface Case {
  name: string;
  make: (spec: LqSpec, bounds: ActionBounds, seed: number | Rng) => Planner;
}

/** optimize() calls from the same state (without advance) before the plan is judged. */
const CALLS = 50;

const cases: Case[] = [
  { name: 'MPPI (white noise)', make: (s, b, seed) => makeMppi(s, mppiWhite, b, seed) },
  { name: 'MPPI (AR(1)-smoothed noise)', make: (s, b, seed) => makeMppi(s, mppiSmooth, b, seed) },
  { name: 'iCEM (colored noise, executes the best)', make: (s, b, seed) => makeIcem(s, icemBest, b, seed) },
  { name: 'CEM (executes the mean, shrinking population)', make: (s, b, seed) => makeIcem(s, cemMean, b, seed) },
];

function runFromSameState(planner: Planner, spec: LqSpec, calls: number): number {
  const x0 = Float32Array.from(spec.x0);
  let best = Infinity;
  for (let c = 0; c < calls; c++) best = planner.optimize(x0).bestCost;
  return best;
}

function l2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

describe('the closed-form reference', () => {
  for (const spec of [doubleIntegrator, skewedPointMass]) {
    const nu = nuOf(spec);
    it(`is the true optimum and the rollout engine charges the same cost (nu=${nu})`, () => {
      const f = quadraticForm(spec);
      const u = optimum(f);
      const J = simulateCost(spec, u);
      // The matrix construction and the direct simulation agree.
      assert.ok(Math.abs(evalQuad(f, u) - J) < 1e-9 * J, `${evalQuad(f, u)} vs ${J}`);
      const zero = new Float64Array(f.n);
      assert.ok(Math.abs(evalQuad(f, zero) - simulateCost(spec, zero)) < 1e-9 * J);
      // Stationary, and every coordinate perturbation costs more (strict convexity).
      assert.ok(maxAbs(gradient(f, u), zero) < 1e-9);
      for (let a = 0; a < f.n; a++) {
        for (const d of [-1e-3, 1e-3]) {
          const v = Float64Array.from(u);
          v[a] = v[a]! + d;
          assert.ok(simulateCost(spec, v) > J);
        }
      }
      // The rollout engine (float32 states) charges the optimal sequence the same cost.
      const engine = engineFor(spec, 4);
      const block = 4 * nu;
      for (let t = 0; t < spec.H; t++) for (let j = 0; j < nu; j++) engine.actions[t * block + j] = u[t * nu + j]!;
      const costs = new Float32Array(4);
      engine.evaluate(Float32Array.from(spec.x0), 1, costs);
      assert.ok(Math.abs(costs[0]! - J) < 1e-5 * J, `engine ${costs[0]} vs ${J}`);
    });
  }
});

describe('planners reach the closed-form LQ optimum', () => {
  for (const spec of [doubleIntegrator, skewedPointMass]) {
    const nu = nuOf(spec);
    const rMin = Math.min(...spec.effort);
    const f = quadraticForm(spec);
    const uStar = optimum(f);
    const jStar = simulateCost(spec, uStar);
    const jZero = simulateCost(spec, new Float64Array(f.n));

    for (const c of cases) {
      it(`${c.name}, unconstrained, nu=${nu}: plan and cost match the optimum`, () => {
        const planner = c.make(spec, unbounded(nu), 1);
        const best = runFromSameState(planner, spec, CALLS);
        const plan = planner.plan;
        const J = simulateCost(spec, plan);
        const gap = (J - jStar) / jStar;
        // Observed gaps over 4 seeds: <= 1.2e-5 (MPPI, iCEM), <= 3.6e-5 (CEM mean).
        const gapTol = 1e-4;
        assert.ok(jZero > 1.5 * jStar, 'the problem is not trivial');
        assert.ok(gap >= -1e-12, `plan beats the optimum? gap ${gap}`);
        assert.ok(gap < gapTol, `relative cost gap ${gap.toExponential(2)} >= ${gapTol}`);
        const planTol = Math.sqrt((gapTol * jStar) / rMin);
        const err = l2(plan, uStar);
        assert.ok(err < planTol, `plan error ${err} >= ${planTol}`);
        const first = new Float32Array(nu);
        planner.action(first);
        for (let j = 0; j < nu; j++) {
          assert.equal(first[j], plan[j]);
          assert.ok(Math.abs(first[j]! - uStar[j]!) < 0.05, `first action ${j}: ${first[j]} vs ${uStar[j]}`);
        }
        // The reported best sampled cost is a real rollout cost: never below the optimum (up to
        // float32 rounding of the engine), and near it.
        assert.ok(best >= jStar * (1 - 1e-5), `bestCost ${best} < J* ${jStar}`);
        assert.ok(best < jStar * (1 + gapTol), `bestCost ${best} vs J* ${jStar}`);
      });
    }

    // Bounds tight enough that the optimum's first action is clamped.
    const umax = spec === doubleIntegrator ? 2 : 1.5;
    const bounds: ActionBounds = {
      low: Float32Array.from({ length: nu }, (_, j) => (j === 0 ? -umax : -Infinity)),
      high: Float32Array.from({ length: nu }, (_, j) => (j === 0 ? umax : Infinity)),
    };
    const uBox = boxOptimum(f, nu, bounds);
    const jBox = simulateCost(spec, uBox);

    it(`the box-constrained reference satisfies KKT with the first action at the bound (nu=${nu})`, () => {
      assert.ok(uStar[0]! > umax + 0.5, `unconstrained first action ${uStar[0]} is not beyond the bound`);
      assert.equal(uBox[0], umax);
      const g = gradient(f, uBox);
      for (let a = 0; a < f.n; a++) {
        const j = a % nu;
        if (uBox[a] === bounds.high[j]) assert.ok(g[a]! <= 1e-9, `dJ/du[${a}] = ${g[a]} at the upper bound`);
        else if (uBox[a] === bounds.low[j]) assert.ok(g[a]! >= -1e-9, `dJ/du[${a}] = ${g[a]} at the lower bound`);
        else assert.ok(Math.abs(g[a]!) < 1e-9, `dJ/du[${a}] = ${g[a]} at a free coordinate`);
      }
      assert.ok(jBox > jStar);
    });

    for (const c of cases) {
      it(`${c.name}, active bound, nu=${nu}: first action at the bound, plan near the constrained optimum`, () => {
        const planner = c.make(spec, bounds, 2);
        const best = runFromSameState(planner, spec, CALLS);
        const plan = planner.plan;
        for (let i = 0; i < plan.length; i++) {
          const j = i % nu;
          assert.ok(plan[i]! >= bounds.low[j]! && plan[i]! <= bounds.high[j]!, `plan[${i}] = ${plan[i]} out of bounds`);
        }
        assert.ok(plan[0]! > umax - 0.01, `first action ${plan[0]} is not at the bound ${umax}`);
        const J = simulateCost(spec, plan);
        const gap = (J - jBox) / jBox;
        // Observed gaps over 4 seeds: <= 1.2e-4 (MPPI), <= 6.6e-5 (iCEM), <= 1.9e-4 (CEM mean): averaging
        // clamped samples (MPPI, CEM mean) biases the plan slightly inside the bound.
        const gapTol = 5e-4;
        assert.ok(gap >= -1e-12, `plan beats the constrained optimum? gap ${gap}`);
        assert.ok(gap < gapTol, `relative cost gap ${gap.toExponential(2)} >= ${gapTol}`);
        const planTol = Math.sqrt((gapTol * jBox) / rMin);
        const err = l2(plan, uBox);
        assert.ok(err < planTol, `plan error ${err} >= ${planTol}`);
        assert.ok(best >= jBox * (1 - 1e-5), `bestCost ${best} < constrained optimum ${jBox}`);
      });
    }
  }
});

describe('determinism', () => {
  const spec = doubleIntegrator;
  const bounds = unbounded(1);
  for (const c of cases) {
    it(`${c.name}: the same seed gives bit-identical plans, another seed a different plan`, () => {
      const run = (seed: number): Uint32Array[] => {
        const p = c.make(spec, bounds, seed);
        const x = Float32Array.from(spec.x0);
        const snaps: Uint32Array[] = [];
        for (let i = 0; i < 4; i++) {
          p.optimize(x);
          snaps.push(bits(p.plan));
          p.advance(1);
          x[0] = x[0]! + 0.05;
        }
        return snaps;
      };
      const a = run(11);
      const b = run(11);
      const other = run(12);
      assert.deepEqual(a, b);
      for (let i = 0; i < a.length; i++) assert.notDeepEqual(a[i], other[i], `snapshot ${i} does not depend on the seed`);
    });
  }
});

describe('warm start and reset', () => {
  const spec = doubleIntegrator;
  for (const c of cases) {
    it(`${c.name}: advance(1) shifts the plan by one step and repeats the last action`, () => {
      const p = c.make(spec, unbounded(1), 3);
      p.optimize(Float32Array.from(spec.x0));
      const before = Float32Array.from(p.plan);
      p.advance(1);
      const H = spec.H;
      for (let t = 0; t < H - 1; t++) assert.equal(p.plan[t], before[t + 1], `plan[${t}]`);
      assert.equal(p.plan[H - 1], before[H - 1]);
      const out = new Float32Array(1);
      p.action(out);
      assert.equal(out[0], before[1]);
      // advance(0) leaves the plan alone; advance(3) shifts by three.
      const once = Float32Array.from(p.plan);
      p.advance(0);
      assert.deepEqual(p.plan, once);
      p.advance(3);
      for (let t = 0; t < H - 3; t++) assert.equal(p.plan[t], once[t + 3], `plan[${t}] after advance(3)`);
      for (let t = H - 3; t < H; t++) assert.equal(p.plan[t], once[H - 1], `tail plan[${t}] after advance(3)`);
    });

    it(`${c.name}: reset() returns to the nominal plan, zero clamped into each dimension's bounds`, () => {
      const spec2 = skewedPointMass;
      const cases2: [number, number, number][] = [
        [0.5, 2, 0.5], // zero below the range: the low bound
        [-3, -1, -1], // zero above the range: the high bound
      ];
      for (const [lo, hi, nominal] of cases2) {
        const bounds: ActionBounds = { low: Float32Array.of(lo, -1), high: Float32Array.of(hi, 1) };
        const p = c.make(spec2, bounds, 4);
        const expectNominal = (): void => {
          for (let t = 0; t < spec2.H; t++) {
            assert.equal(p.plan[t * 2], nominal, `plan[${t}, 0]`);
            assert.equal(p.plan[t * 2 + 1], 0, `plan[${t}, 1]`);
          }
        };
        expectNominal(); // a fresh planner starts from the nominal plan
        p.optimize(Float32Array.from(spec2.x0));
        assert.ok(p.plan.some((v, i) => v !== (i % 2 === 0 ? nominal : 0)), 'optimize changed nothing');
        p.reset();
        expectNominal();
      }
    });

    it(`${c.name}: after reset() the planner behaves exactly like a fresh one`, () => {
      // Two generators with the same seed, consumed identically: planner A optimizes twice, resets
      // and optimizes from another state; a throwaway planner burns the same draws from B's
      // generator, then a fresh planner on B's generator optimizes from that other state.
      const x0 = Float32Array.from(spec.x0);
      const x1 = Float32Array.of(0.4, -0.2);
      const rngA = new Rng(21);
      const rngB = new Rng(21);
      const build = (rng: Rng): Planner => c.make(spec, unbounded(1), rng);
      const a = build(rngA);
      a.optimize(x0);
      a.optimize(x0);
      a.reset();
      a.optimize(x1);
      const burn = build(rngB);
      burn.optimize(x0);
      burn.optimize(x0);
      const fresh = build(rngB);
      fresh.optimize(x1);
      assert.deepEqual(bits(a.plan), bits(fresh.plan));
    });
  }
});

describe('engine larger than the sample count', () => {
  const spec = doubleIntegrator;
  const bounds = unbounded(1);
  it(
    'MPPI with samples < engine.maxSamples plans exactly as with an exactly-sized engine',
    () => {
      const exact = makeMppi(spec, mppiWhite, bounds, 5);
      const roomy = makeMppi(spec, mppiWhite, bounds, 5, 2 * mppiWhite.samples);
      const x0 = Float32Array.from(spec.x0);
      const r1 = exact.optimize(x0);
      const r2 = roomy.optimize(x0);
      assert.equal(r2.bestCost, r1.bestCost);
      assert.deepEqual(bits(roomy.plan), bits(exact.plan));
    },
  );
  it('iCEM with samples < engine.maxSamples plans exactly as with an exactly-sized engine', () => {
    const exact = makeIcem(spec, icemBest, bounds, 5);
    const roomy = makeIcem(spec, icemBest, bounds, 5, 2 * icemBest.samples);
    const x0 = Float32Array.from(spec.x0);
    for (let i = 0; i < 3; i++) {
      const r1 = exact.optimize(x0);
      const r2 = roomy.optimize(x0);
      assert.equal(r2.bestCost, r1.bestCost);
      assert.deepEqual(bits(roomy.plan), bits(exact.plan));
      exact.advance(1);
      roomy.advance(1);
    }
  });
});
