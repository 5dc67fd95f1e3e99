/**
 * A deliberately plain reference of what a rollout evaluator computes, for checking the batched,
 * float32, multi-threaded engines against it. One sample at a time, float64 throughout, straight
 * from the config and the snapshots' documented layouts: the integrators written out here (not
 * src/models/integrators.ts), the residual and value MLPs unfused (no folded normalizers, no MLP
 * kernel), expression costs evaluated by mathjs itself (not the project's expression compiler),
 * the other cost terms from their definitions. Written for clarity, not speed.
 *
 * Per sample k of `count`, from x0, with a_t its action at step t:
 *   s_{t+1} = integrate(f, s_t, a_t, period) + residual_{member(k)}(s_t, a_t)
 *   cost    = sum_{t<H} [ task running cost(s_{t+1}, a_t) + w_u * disagreement(s_t, a_t) ]
 *             + task terminal cost(s_H, a_{H-1}) + w_V * V(s_H)
 *   member(k) = elites[min(floor(k / ceil(count / E)), E - 1)]
 * and a non-finite total becomes 3.4e38.
 */
import { compile, type EvalFunction } from 'mathjs';
import type { Config, CostTermConfig } from '../../src/config/schema.js';
import { continuousModel } from '../../src/models/continuous-model.js';
import type { ContinuousDynamics } from '../../src/models/dynamics.js';
import type { EnsembleSnapshot } from '../../src/models/residual/ensemble-snapshot.js';
import type { ValueSnapshot } from '../../src/models/value/value-snapshot.js';
import type { RolloutEvaluator } from '../../src/planning/rollout-evaluator.js';

/** What a diverged rollout costs, as the engines write it. */
export const DIVERGED_COST = 3.4e38;

/** The learned parts in use, as plain snapshots (what a HybridModel's predictors were built from). */
export interface ReferenceLearnedParts {
  residual?: EnsembleSnapshot | undefined;
  value?: ValueSnapshot | undefined;
}

/** One cost term of the task as a function of one sample's state and action (plain numbers). */
interface ReferenceTerm {
  running(s: readonly number[], a: readonly number[]): number;
  terminal(s: readonly number[], a: readonly number[]): number;
}

/** The extra functions config expressions may call, beyond mathjs's own (documented in src/costs/expression-form.ts). */
const EXPRESSION_FUNCTIONS = {
  wrap: (x: number): number => wrapToPi(x),
  clamp: (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi),
  smoothabs: (x: number, eps: number): number => Math.sqrt(x * x + eps * eps) - eps,
};

/** An angle in [-pi, pi] (only ever squared here, so which end pi lands on does not matter). */
function wrapToPi(x: number): number {
  return Math.atan2(Math.sin(x), Math.cos(x));
}

/**
 * Total cost of each sample's sequence, for k < count, in float64.
 * actions [H, maxSamples, nu] step-major (the evaluators' layout); x0 [nx].
 */
export function referenceRolloutCosts(
  config: Config,
  x0: ArrayLike<number>,
  actions: Float32Array,
  maxSamples: number,
  count: number,
  learned: ReferenceLearnedParts = {},
): Float64Array {
  const dynamics = continuousModel(config.model);
  const nx = dynamics.stateNames.length;
  const nu = dynamics.actionNames.length;
  const H = config.planner.horizon;
  const dt = config.control.period;
  const hybrid = config.model.residual !== undefined;
  const residual = learned.residual;
  const value = learned.value;
  if (!hybrid && (residual !== undefined || value !== undefined)) throw new Error('learned parts need a config with model.residual');
  const uncertaintyWeight = config.model.residual?.uncertainty_weight ?? 0;
  const valueWeight = config.learning.value.enabled ? config.learning.value.weight : 0;
  const terms = config.task.cost.map((t) => referenceTerm(t, config, dynamics));

  const costs = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const member = residual === undefined ? -1 : memberOf(residual, k, count);
    let s = Array.from({ length: nx }, (_, i) => x0[i]!);
    let a: number[] = [];
    let total = 0;
    for (let t = 0; t < H; t++) {
      const at = (t * maxSamples + k) * nu;
      a = Array.from({ length: nu }, (_, j) => actions[at + j]!);
      const next = integrate(dynamics, config.model.integrator, config.model.substeps, s, a, dt);
      if (residual !== undefined) {
        const r = residualOf(residual, member, s, a);
        for (let i = 0; i < nx; i++) next[i]! += r[i]!;
        if (uncertaintyWeight > 0) total += uncertaintyWeight * disagreementOf(residual, s, a);
      }
      for (const term of terms) total += term.running(next, a);
      s = next;
    }
    for (const term of terms) total += term.terminal(s, a);
    if (value !== undefined && valueWeight > 0) total += valueWeight * valueOf(value, s);
    costs[k] = Number.isFinite(total) ? total : DIVERGED_COST;
  }
  return costs;
}

/** Sample k's ensemble member: contiguous blocks of ceil(count / E) samples per elite, the last elite taking the rest. */
export function memberOf(snapshot: EnsembleSnapshot, k: number, count: number): number {
  const E = snapshot.elites.length;
  return snapshot.elites[Math.min(Math.floor(k / Math.ceil(count / E)), E - 1)]!;
}

/** One dense layer in float64: W [in, out] row-major, b [out]. */
interface Layer64 {
  readonly inn: number;
  readonly out: number;
  readonly W: Float64Array;
  readonly b: Float64Array;
}

/** Each member's layers in float64, converted once per snapshot (the slow part is the arithmetic, not this). */
const memberLayerCache = new WeakMap<EnsembleSnapshot, Layer64[][]>();
const valueLayerCache = new WeakMap<ValueSnapshot, Layer64[][]>();

function membersOf(s: EnsembleSnapshot): Layer64[][] {
  let members = memberLayerCache.get(s);
  if (members === undefined) {
    // Snapshot layouts: weights [members, in, out], bias [members, out].
    members = Array.from({ length: s.spec.members }, (_, m) =>
      s.layers.map((layer) => {
        const out = layer.bias.length / s.spec.members;
        const inn = layer.weights.length / s.spec.members / out;
        return { inn, out, W: Float64Array.from(layer.weights.subarray(m * inn * out, (m + 1) * inn * out)), b: Float64Array.from(layer.bias.subarray(m * out, (m + 1) * out)) };
      }),
    );
    memberLayerCache.set(s, members);
  }
  return members;
}

function valueLayersOf(v: ValueSnapshot): Layer64[][] {
  let layers = valueLayerCache.get(v);
  if (layers === undefined) {
    // Stacked like the residual: weights [members, in, out], bias [members, out].
    layers = Array.from({ length: v.members }, (_, m) =>
      v.layers.map((layer) => {
        const out = layer.bias.length / v.members;
        const inn = layer.weights.length / v.members / out;
        return { inn, out, W: Float64Array.from(layer.weights.subarray(m * inn * out, (m + 1) * inn * out)), b: Float64Array.from(layer.bias.subarray(m * out, (m + 1) * out)) };
      }),
    );
    valueLayerCache.set(v, layers);
  }
  return layers;
}

/** The network on one input: ReLU after every layer but the last. */
function forward(layers: readonly Layer64[], input: Float64Array): Float64Array {
  let h = input;
  for (let l = 0; l < layers.length; l++) {
    const { inn, out, W, b } = layers[l]!;
    const next = Float64Array.from(b);
    for (let i = 0; i < inn; i++) {
      const x = h[i]!;
      for (let j = 0; j < out; j++) next[j] = next[j]! + x * W[i * out + j]!;
    }
    if (l < layers.length - 1) for (let j = 0; j < out; j++) next[j] = Math.max(0, next[j]!);
    h = next;
  }
  return h;
}

/** A state's features: sin and cos of each angle, every other state as it is. */
function stateFeatures(angular: readonly boolean[], s: readonly number[]): number[] {
  return s.flatMap((v, i) => (angular[i] ? [Math.sin(v), Math.cos(v)] : [v]));
}

/** Features normalized by `n`: (f - mean) / std. */
function normalized(f: readonly number[], n: { mean: Float32Array; std: Float32Array }): Float64Array {
  return Float64Array.from(f, (v, i) => (v - n.mean[i]!) / n.std[i]!);
}

/** Member m's mean head on (s, a), still normalized (the first nx outputs; the log-variances follow). */
function normalizedMean(snap: EnsembleSnapshot, m: number, s: readonly number[], a: readonly number[]): number[] {
  const input = normalized([...stateFeatures(snap.spec.angular, s), ...a], snap.input);
  const out = forward(membersOf(snap)[m]!, input);
  const mean: number[] = [];
  for (let i = 0; i < s.length; i++) mean.push(out[i]!);
  return mean;
}

/** Member m's mean residual on (s, a), in state units. */
function residualOf(snap: EnsembleSnapshot, m: number, s: readonly number[], a: readonly number[]): number[] {
  return normalizedMean(snap, m, s, a).map((z, i) => z * snap.target.std[i]! + snap.target.mean[i]!);
}

/** The elites' population variance of the normalized mean, summed over state dimensions. */
function disagreementOf(snap: EnsembleSnapshot, s: readonly number[], a: readonly number[]): number {
  const means = snap.elites.map((m) => normalizedMean(snap, m, s, a));
  let total = 0;
  for (let i = 0; i < s.length; i++) {
    const avg = means.reduce((acc, z) => acc + z[i]!, 0) / means.length;
    total += means.reduce((acc, z) => acc + (z[i]! - avg) ** 2, 0) / means.length;
  }
  return total;
}

/** V(s) in cost units: the mean of the members. */
function valueOf(v: ValueSnapshot, s: readonly number[]): number {
  const x = normalized(stateFeatures(v.angular, s), v.input);
  const members = valueLayersOf(v);
  const z = members.reduce((acc, layers) => acc + forward(layers, x)[0]!, 0) / members.length;
  return z * v.target.std[0]! + v.target.mean[0]!;
}

/**
 * One control period of the continuous dynamics for one sample, with the action held, in
 * float64. ContinuousDynamics is typed on Float32Array but only reads and writes by index, so
 * it is handed float64 buffers to keep this reference free of float32 rounding.
 */
function integrate(
  dynamics: ContinuousDynamics,
  kind: Config['model']['integrator'],
  substeps: number,
  s: readonly number[],
  a: readonly number[],
  dt: number,
): number[] {
  const nx = s.length;
  const action = Float64Array.from(a);
  const f = (x: Float64Array): Float64Array => {
    const d = new Float64Array(nx);
    dynamics.derivatives(x as unknown as Float32Array, action as unknown as Float32Array, d as unknown as Float32Array, 1);
    return d;
  };
  const h = dt / substeps;
  const x = Float64Array.from(s);
  for (let sub = 0; sub < substeps; sub++) {
    if (kind === 'rk4') {
      const k1 = f(x);
      const k2 = f(x.map((v, i) => v + (h / 2) * k1[i]!));
      const k3 = f(x.map((v, i) => v + (h / 2) * k2[i]!));
      const k4 = f(x.map((v, i) => v + h * k3[i]!));
      for (let i = 0; i < nx; i++) x[i] = x[i]! + (h / 6) * (k1[i]! + 2 * k2[i]! + 2 * k3[i]! + k4[i]!);
    } else {
      // Semi-implicit Euler on [q, qdot]: the new velocity first, then the position from it.
      const nq = dynamics.nq;
      const d = f(x);
      for (let j = 0; j < nq; j++) {
        x[nq + j] = x[nq + j]! + h * d[nq + j]!;
        x[j] = x[j]! + h * x[nq + j]!;
      }
    }
  }
  return Array.from(x);
}

/** A config cost term, straight from its definition in the schema's documentation. */
function referenceTerm(term: CostTermConfig, config: Config, dynamics: ContinuousDynamics): ReferenceTerm {
  const states = dynamics.stateNames;
  const actions = dynamics.actionNames;
  const stateIndex = (name: string): number => states.indexOf(name);
  switch (term.kind) {
    case 'expression': {
      const expr: EvalFunction = compile(term.expr);
      const at = (s: readonly number[], a: readonly number[]): number => {
        const scope: Record<string, unknown> = { ...EXPRESSION_FUNCTIONS, ...config.task.params };
        states.forEach((n, i) => (scope[n] = s[i]));
        actions.forEach((n, j) => (scope[n] = a[j]));
        const v: unknown = expr.evaluate(scope);
        return typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : Number.NaN;
      };
      // A zero weight adds nothing, even where the expression is NaN.
      return {
        running: (s, a) => (term.weight === 0 ? 0 : term.weight * at(s, a)),
        terminal: (s, a) => (term.terminal_weight === 0 ? 0 : term.terminal_weight * at(s, a)),
      };
    }
    case 'quadratic': {
      const at = (s: readonly number[]): number => {
        let c = 0;
        for (const [name, w] of Object.entries(term.weights)) {
          const i = stateIndex(name);
          let e = s[i]! - (term.target[name] ?? 0);
          if (dynamics.angular[i]) e = wrapToPi(e);
          c += w * e * e;
        }
        return c;
      };
      return { running: (s) => term.weight * at(s), terminal: (s) => term.terminal_weight * at(s) };
    }
    case 'effort': {
      const at = (a: readonly number[]): number => {
        let c = 0;
        for (const [name, w] of Object.entries(term.weights)) c += w * a[actions.indexOf(name)]! ** 2;
        return c;
      };
      return { running: (_s, a) => term.weight * at(a), terminal: () => 0 };
    }
    case 'state_bounds': {
      const at = (s: readonly number[]): number => {
        let c = 0;
        for (const [name, [low, high]] of Object.entries(term.bounds)) {
          const v = s[stateIndex(name)]!;
          if (v < low) c += (low - v) ** 2;
          else if (v > high) c += (v - high) ** 2;
        }
        return c;
      };
      return { running: (s) => term.weight * at(s), terminal: (s) => term.terminal_weight * at(s) };
    }
  }
}

/**
 * The reference as a RolloutEvaluator, so a planner can run on it. The learned parts it uses are
 * plain fields: set them where the engine's HybridModel gets new predictors.
 * actions [H, maxSamples, nu]; costs [maxSamples].
 */
export class ReferenceEvaluator implements RolloutEvaluator {
  readonly stateDim: number;
  readonly actionDim: number;
  readonly horizon: number;
  readonly actions: Float32Array;
  residual: EnsembleSnapshot | undefined;
  value: ValueSnapshot | undefined;
  /** Evaluations so far (a planner test checks that both sides were asked the same number of times). */
  calls = 0;

  constructor(
    readonly config: Config,
    readonly maxSamples: number,
    learned: ReferenceLearnedParts = {},
  ) {
    const dynamics = continuousModel(config.model);
    this.stateDim = dynamics.stateNames.length;
    this.actionDim = dynamics.actionNames.length;
    this.horizon = config.planner.horizon;
    this.actions = new Float32Array(this.horizon * maxSamples * this.actionDim);
    this.residual = learned.residual;
    this.value = learned.value;
  }

  evaluate(x0: Float32Array, count: number, costs: Float32Array): void {
    this.calls++;
    const exact = referenceRolloutCosts(this.config, x0, this.actions, this.maxSamples, count, { residual: this.residual, value: this.value });
    for (let k = 0; k < count; k++) costs[k] = exact[k]!;
  }

  dispose(): void {}
}
