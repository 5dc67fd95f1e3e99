import { wrapAngle } from '../core/angles.js';
import type { DynamicsModel } from '../models/dynamics.js';

/** Step of the finite difference that gives each action's effect on the next state, in action units. */
const PROBE = 0.05;

/**
 * Offset-free MPC's input-disturbance estimate: an offset d [nu] such that the plant, sent action
 * a, moves as the planning model does with a + d. The planner plans in the model's actions u;
 * the action sent is u - d. Each period the state the plant reached is compared with the model's
 * prediction from the previous state and action, the offset change that best explains the
 * difference is solved by least squares through the model's own sensitivity to its actions
 * (finite differences, one batched step of nu + 1 rows), and a fraction `gain` of it is taken:
 * an integrator on the model's error, the way an integral term removes a PID loop's steady-state
 * offset. Offsets are clamped to `limit` (0 = an action never offset).
 *
 * Layouts: state [nx], actions [nu]; scratch rows [nu + 1, nx] and [nu + 1, nu], allocated once.
 */
export class InputDisturbanceObserver {
  /** [nu] the current offset, action units. */
  readonly offset: Float64Array;
  private readonly nx: number;
  private readonly nu: number;
  private readonly active: number[]; // actions with a nonzero limit
  private readonly states: Float32Array; // [nu + 1, nx]
  private readonly actions: Float32Array; // [nu + 1, nu]
  private readonly next: Float32Array; // [nu + 1, nx]
  private readonly sens: Float64Array; // [active, nx] d next state / d action
  private readonly normal: Float64Array; // [active, active + 1] normal equations, augmented
  private readonly prevState: Float32Array;
  private readonly prevSent: Float32Array;
  private hasPrev = false;

  constructor(
    private readonly model: DynamicsModel,
    private readonly dt: number,
    private readonly gain: number,
    private readonly limit: Float64Array,
  ) {
    this.nx = model.stateNames.length;
    this.nu = model.actionNames.length;
    if (limit.length !== this.nu) throw new RangeError(`InputDisturbanceObserver: ${limit.length} limits for ${this.nu} actions`);
    if (model.maxBatch < this.nu + 1) throw new RangeError(`InputDisturbanceObserver: the model steps at most ${model.maxBatch} rows, it needs ${this.nu + 1}`);
    this.active = [...limit.keys()].filter((j) => limit[j]! > 0);
    const m = this.active.length;
    this.offset = new Float64Array(this.nu);
    this.states = new Float32Array((this.nu + 1) * this.nx);
    this.actions = new Float32Array((this.nu + 1) * this.nu);
    this.next = new Float32Array((this.nu + 1) * this.nx);
    this.sens = new Float64Array(m * this.nx);
    this.normal = new Float64Array(m * (m + 1));
    this.prevState = new Float32Array(this.nx);
    this.prevSent = new Float32Array(this.nu);
  }

  /** Forgets the last step (a new episode, a gap in the ticks); the offset stays, a property of the plant. */
  forgetStep(): void {
    this.hasPrev = false;
  }

  /** The plant was in `state` when `sent` went out: the next observe() compares against it. */
  remember(state: ArrayLike<number>, sent: ArrayLike<number>): void {
    for (let i = 0; i < this.nx; i++) this.prevState[i] = state[i]!;
    for (let j = 0; j < this.nu; j++) this.prevSent[j] = sent[j]!;
    this.hasPrev = true;
  }

  /** The plant reached `state` one period after the remembered step: refines the offset. */
  observe(state: ArrayLike<number>): void {
    if (!this.hasPrev) return;
    this.hasPrev = false;
    const { nx, nu, active, states, actions, next, sens, normal, offset, model } = this;
    const m = active.length;
    if (m === 0) return;
    for (let r = 0; r <= nu; r++) {
      states.set(this.prevState, r * nx);
      for (let j = 0; j < nu; j++) actions[r * nu + j] = this.prevSent[j]! + offset[j]!;
    }
    for (let a = 0; a < m; a++) {
      const at = (a + 1) * nu + active[a]!;
      actions[at] = actions[at]! + PROBE;
    }
    model.step(states, actions, next, m + 1, this.dt);
    for (let a = 0; a < m; a++) for (let i = 0; i < nx; i++) sens[a * nx + i] = (next[(a + 1) * nx + i]! - next[i]!) / PROBE;
    // Normal equations (S S^T + eps I) delta = S e, e = reached - predicted (angles wrapped).
    let trace = 0;
    for (let a = 0; a < m; a++) {
      let rhs = 0;
      for (let i = 0; i < nx; i++) {
        const diff = state[i]! - next[i]!;
        rhs += sens[a * nx + i]! * (model.angular[i] === true ? wrapAngle(diff) : diff);
      }
      normal[a * (m + 1) + m] = rhs;
      for (let b = 0; b < m; b++) {
        let dot = 0;
        for (let i = 0; i < nx; i++) dot += sens[a * nx + i]! * sens[b * nx + i]!;
        normal[a * (m + 1) + b] = dot;
      }
      trace += normal[a * (m + 1) + a]!;
    }
    if (!(trace > 0)) return; // the actions do not move the state: nothing to learn from
    for (let a = 0; a < m; a++) normal[a * (m + 1) + a] = normal[a * (m + 1) + a]! + 1e-9 * trace;
    if (!solveInPlace(normal, m)) return;
    for (let a = 0; a < m; a++) {
      const j = active[a]!;
      const lim = this.limit[j]!;
      const step = normal[a * (m + 1) + m]!;
      if (!Number.isFinite(step)) return;
      offset[j] = Math.min(lim, Math.max(-lim, offset[j]! + this.gain * step));
    }
  }

  /** The action to send for the model's action `u`: u - offset. */
  toPlant(u: ArrayLike<number>, out: Float32Array): void {
    for (let j = 0; j < this.nu; j++) out[j] = u[j]! - this.offset[j]!;
  }
}

/** Gaussian elimination with partial pivoting on [m, m + 1]; the solution replaces the last column. False when singular. */
function solveInPlace(a: Float64Array, m: number): boolean {
  const w = m + 1;
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(a[r * w + c]!) > Math.abs(a[p * w + c]!)) p = r;
    if (a[p * w + c] === 0) return false;
    if (p !== c) {
      for (let k = 0; k < w; k++) {
        const t = a[c * w + k]!;
        a[c * w + k] = a[p * w + k]!;
        a[p * w + k] = t;
      }
    }
    for (let r = 0; r < m; r++) {
      if (r === c) continue;
      const f = a[r * w + c]! / a[c * w + c]!;
      if (f !== 0) for (let k = c; k < w; k++) a[r * w + k] = a[r * w + k]! - f * a[c * w + k]!;
    }
  }
  for (let r = 0; r < m; r++) a[r * w + m] = a[r * w + m]! / a[r * w + r]!;
  return true;
}
