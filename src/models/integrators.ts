import type { ContinuousDynamics, DynamicsModel } from './dynamics.js';
import { integrateQuat, normalizeQuat } from './rigid-body/quaternion.js';

export type IntegratorKind = 'rk4' | 'semi_implicit_euler';

/**
 * Turns continuous dynamics into a discrete batched model with a fixed-step integrator and
 * `substeps` sub-steps per control period. Scratch buffers are sized once for `maxBatch`.
 * States with unit quaternions (ContinuousDynamics.quaternions: ball and free joints) have them
 * renormalized after every sub-step.
 */
export function discretize(
  dynamics: ContinuousDynamics,
  kind: IntegratorKind,
  substeps: number,
  maxBatch: number,
): DynamicsModel {
  return kind === 'rk4'
    ? new Rk4Model(dynamics, substeps, maxBatch)
    : new SemiImplicitEulerModel(dynamics, substeps, maxBatch);
}

abstract class IntegratedModel implements DynamicsModel {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  readonly angular: readonly boolean[];
  protected readonly nx: number;
  /** [nquat, 2] each quaternion's index in the state and its angular velocity's index in v. */
  protected readonly quats: Int32Array;

  constructor(
    protected readonly dynamics: ContinuousDynamics,
    protected readonly substeps: number,
    readonly maxBatch: number,
  ) {
    if (!Number.isInteger(substeps) || substeps < 1) throw new RangeError('substeps must be an integer >= 1');
    this.stateNames = dynamics.stateNames;
    this.actionNames = dynamics.actionNames;
    this.angular = dynamics.angular;
    this.nx = dynamics.stateNames.length;
    this.quats = Int32Array.from(dynamics.quaternions ?? []);
  }

  /** Renormalizes every sample's quaternions in place (nothing to do without them). */
  protected normalize(states: Float32Array, count: number): void {
    const { quats, nx } = this;
    if (quats.length === 0) return;
    for (let k = 0; k < count; k++) for (let e = 0; e < quats.length; e += 2) normalizeQuat(states, k * nx + quats[e]!);
  }

  abstract step(states: Float32Array, actions: Float32Array, out: Float32Array, count: number, dt: number): void;
}

/** Classic fourth-order Runge-Kutta with zero-order-hold actions. */
class Rk4Model extends IntegratedModel {
  // Each [maxBatch, nx]
  private readonly k1: Float32Array;
  private readonly k2: Float32Array;
  private readonly k3: Float32Array;
  private readonly k4: Float32Array;
  private readonly probe: Float32Array;

  constructor(dynamics: ContinuousDynamics, substeps: number, maxBatch: number) {
    super(dynamics, substeps, maxBatch);
    const n = maxBatch * this.nx;
    this.k1 = new Float32Array(n);
    this.k2 = new Float32Array(n);
    this.k3 = new Float32Array(n);
    this.k4 = new Float32Array(n);
    this.probe = new Float32Array(n);
  }

  step(states: Float32Array, actions: Float32Array, out: Float32Array, count: number, dt: number): void {
    const n = count * this.nx;
    const h = dt / this.substeps;
    const { k1, k2, k3, k4, probe, dynamics } = this;
    if (out !== states) out.set(states.subarray(0, n));
    for (let s = 0; s < this.substeps; s++) {
      dynamics.derivatives(out, actions, k1, count);
      for (let i = 0; i < n; i++) probe[i] = out[i]! + 0.5 * h * k1[i]!;
      dynamics.derivatives(probe, actions, k2, count);
      for (let i = 0; i < n; i++) probe[i] = out[i]! + 0.5 * h * k2[i]!;
      dynamics.derivatives(probe, actions, k3, count);
      for (let i = 0; i < n; i++) probe[i] = out[i]! + h * k3[i]!;
      dynamics.derivatives(probe, actions, k4, count);
      for (let i = 0; i < n; i++) out[i] = out[i]! + (h / 6) * (k1[i]! + 2 * k2[i]! + 2 * k3[i]! + k4[i]!);
      this.normalize(out, count);
    }
  }
}

/**
 * Semi-implicit (symplectic) Euler: velocities first from the accelerations at the current
 * state, then positions from the new velocities. Needs the [q (nq), v (nv)] state layout; a
 * quaternion turns by the exponential map of its new angular velocity (MuJoCo's mj_integratePos).
 */
class SemiImplicitEulerModel extends IntegratedModel {
  private readonly deriv: Float32Array; // [maxBatch, nx]
  /** [nq] per position coordinate: the index in v of its rate, -1 for a quaternion component. */
  private readonly velocityOf: Int32Array;

  constructor(dynamics: ContinuousDynamics, substeps: number, maxBatch: number) {
    super(dynamics, substeps, maxBatch);
    const nq = dynamics.nq;
    const nv = dynamics.nv ?? nq;
    if (nq + nv !== this.nx) throw new RangeError('semi-implicit Euler needs a [q, qdot] state layout');
    this.deriv = new Float32Array(maxBatch * this.nx);
    this.velocityOf = new Int32Array(nq).fill(-1);
    const claimed = new Uint8Array(nv);
    const quatAt = new Set<number>();
    for (let e = 0; e < this.quats.length; e += 2) {
      quatAt.add(this.quats[e]!);
      claimed.fill(1, this.quats[e + 1]!, this.quats[e + 1]! + 3);
    }
    let v = 0;
    for (let i = 0; i < nq; i++) {
      if (quatAt.has(i)) {
        i += 3;
        continue;
      }
      while (v < nv && claimed[v] === 1) v++;
      this.velocityOf[i] = v++;
    }
  }

  step(states: Float32Array, actions: Float32Array, out: Float32Array, count: number, dt: number): void {
    const { nx, deriv, dynamics, quats, velocityOf } = this;
    const nq = dynamics.nq;
    const h = dt / this.substeps;
    if (out !== states) out.set(states.subarray(0, count * nx));
    for (let s = 0; s < this.substeps; s++) {
      dynamics.derivatives(out, actions, deriv, count);
      if (quats.length === 0) {
        for (let k = 0; k < count; k++) {
          const o = k * nx;
          for (let j = 0; j < nq; j++) {
            const v = out[o + nq + j]! + h * deriv[o + nq + j]!;
            out[o + nq + j] = v;
            out[o + j] = out[o + j]! + h * v;
          }
        }
        continue;
      }
      const nv = nx - nq;
      for (let k = 0; k < count; k++) {
        const o = k * nx;
        const vo = o + nq;
        for (let j = 0; j < nv; j++) out[vo + j] = out[vo + j]! + h * deriv[vo + j]!;
        for (let i = 0; i < nq; i++) {
          const j = velocityOf[i]!;
          if (j >= 0) out[o + i] = out[o + i]! + h * out[vo + j]!;
        }
        for (let e = 0; e < quats.length; e += 2) {
          const w = vo + quats[e + 1]!;
          integrateQuat(out, o + quats[e]!, out[w]!, out[w + 1]!, out[w + 2]!, h);
        }
      }
    }
  }
}
