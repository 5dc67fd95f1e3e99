import type { Config } from '../config/schema.js';
import type { Rng } from '../core/rng.js';
import { cartpoleConstants, cartpoleParams } from '../models/analytic/cartpole.js';
import { foldInputNormalizer, type EnsembleSnapshot } from '../models/residual/ensemble-snapshot.js';
import { tf } from '../models/residual/tf-backend.js';
import { actionBounds, perAction } from '../planning/build-planner.js';
import type { Planner, PlanResult } from '../planning/planner.js';
import { BENCH_COST_EXPR } from './bench-workloads.js';
import { modelLabel } from '../models/continuous-model.js';

/** What the bench times per tick: the Planner's tick methods. */
export type TickPlanner = Pick<Planner, 'actionDim' | 'advance' | 'optimize' | 'action' | 'dispose'>;

/** One member's dense layers with the normalizers folded in, as tensors. */
interface MemberLayers {
  readonly weights: tf.Tensor2D[]; // per layer [in, out]
  readonly bias: tf.Tensor1D[]; // per layer [out]
}

/**
 * The straightforward baseline of the W1 workload: MPPI written op by op in tfjs, the way
 * tensor-library MPPI implementations usually are. Every arithmetic step of the RK4 cart-pole,
 * the residual ensemble and the cost is its own tensor op over all K samples, repeated for each
 * of the H steps; each member's MLP is a matMul, add, relu chain on its block of samples.
 * It computes the planner's rollout costs (a test compares them with RolloutEngine's), so the
 * ratio of the two times is what the planner's own rollout engine gains over this style.
 *
 * Only W1's task is written out: cart-pole, RK4, the bench cost expression, a residual, MPPI
 * without noise smoothing. Any other config is refused rather than silently mis-modelled.
 */
export class OpByOpMppi implements TickPlanner {
  readonly actionDim: number;
  readonly samples: number; // K
  readonly horizon: number; // H
  private plan: tf.Tensor2D; // [H, nu]
  private readonly noiseStd: tf.Tensor1D; // [nu]
  private readonly low: tf.Tensor1D; // [nu]
  private readonly high: tf.Tensor1D; // [nu]
  private readonly members: MemberLayers[];
  private readonly angular: readonly boolean[];
  private readonly temperature: number;
  private readonly dt: number;
  private readonly substeps: number;
  private readonly runningWeight: number;
  private readonly terminalWeight: number;
  // Cart-pole constants, from models/analytic/cartpole.ts (W1 is the cart-pole task by definition).
  private readonly gear: number;
  private readonly bx: number;
  private readonly bth: number;
  private readonly ml: number;
  private readonly mlg: number;
  private readonly Mt: number;
  private readonly J: number;

  constructor(
    config: Config,
    snapshot: EnsembleSnapshot,
    private readonly rng: Rng,
  ) {
    const problems = unsupported(config);
    if (problems.length > 0) throw new RangeError(`the op-by-op baseline only models the W1 task: ${problems.join('; ')}`);
    const p = config.planner;
    if (p.kind !== 'mppi') throw new RangeError('unreachable: checked above');
    const names = snapshot.spec.actionNames;
    this.actionDim = names.length;
    this.samples = p.samples;
    this.horizon = p.horizon;
    this.temperature = p.temperature;
    this.dt = config.control.period;
    this.substeps = config.model.substeps;
    const term = config.task.cost[0];
    if (term?.kind !== 'expression') throw new RangeError('unreachable: checked above');
    this.runningWeight = term.weight;
    this.terminalWeight = term.terminal_weight;
    if (config.model.kind !== 'analytic') throw new RangeError('unreachable: checked above');
    const cp = cartpoleParams.parse(config.model.params);
    const { ml, Mt, J } = cartpoleConstants(cp);
    this.gear = cp.gear;
    this.bx = cp.cart_damping;
    this.bth = cp.pole_damping;
    this.ml = ml;
    this.mlg = ml * cp.gravity;
    this.Mt = Mt;
    this.J = J;
    this.angular = snapshot.spec.angular;
    const bounds = actionBounds(config, names);
    this.noiseStd = tf.tensor1d(perAction(p.noise_std, names, 1));
    this.low = tf.tensor1d(bounds.low);
    this.high = tf.tensor1d(bounds.high);
    // The nominal plan: zero, moved inside the bounds, as the planner's reset.
    this.plan = tf.tidy(() => tf.zeros([this.horizon, this.actionDim]).maximum(this.low).minimum(this.high));
    this.members = snapshot.elites.map((m) => memberLayers(snapshot, m));
  }

  /** Warm start: the plan shifted by `steps`, the last action repeated at the tail. */
  advance(steps: number): void {
    if (steps <= 0) return;
    const s = Math.min(steps, this.horizon - 1);
    const old = this.plan;
    this.plan = tf.tidy(() => {
      const last = old.slice([this.horizon - 1, 0], [1, this.actionDim]);
      return tf.concat([old.slice([s, 0], [this.horizon - s, this.actionDim]), tf.tile(last, [s, 1])], 0) as tf.Tensor2D;
    });
    old.dispose();
  }

  /** One MPPI iteration: noise, clipped sequences, rollout costs, softmax weights, weighted plan. */
  optimize(state: Float32Array): PlanResult {
    const { horizon: H, samples: K, actionDim: nu } = this;
    const [plan, best] = tf.tidy(() => {
      const noise = tf.randomNormal([H, K, nu], 0, 1, 'float32', this.rng.nextU32());
      const perturbed = this.plan.reshape([H, 1, nu]).add(noise.mul(this.noiseStd));
      const actions = perturbed.maximum(this.low).minimum(this.high) as tf.Tensor3D; // [H, K, nu]
      const costs = this.rolloutCosts(state, actions); // [K]
      const weights = tf.softmax(costs.mul(-1 / this.temperature)); // [K]
      const next = actions.mul(weights.reshape([1, K, 1])).sum(1) as tf.Tensor2D; // [H, nu]
      return [next, costs.min()];
    }) as [tf.Tensor2D, tf.Scalar];
    this.plan.dispose();
    this.plan = plan;
    const bestCost = best.dataSync()[0]!;
    best.dispose();
    return { bestCost, iterations: 1 };
  }

  action(out: Float32Array): void {
    const first = this.plan.slice([0, 0], [1, this.actionDim]);
    out.set(first.dataSync());
    first.dispose();
  }

  /**
   * Total cost [K] of each action sequence from x0 [nx]: actions [H, K, nu], step-major as the
   * rollout engine's. Running cost at each reached state with the action that reached it,
   * terminal cost at the last state with the last action, as RolloutEngine.evaluate.
   * Each step's temporaries are freed at once, as an eager tensor library frees them.
   */
  rolloutCosts(x0: Float32Array, actions: tf.Tensor3D): tf.Tensor1D {
    const K = actions.shape[1];
    const nx = x0.length;
    return tf.tidy(() => {
      const steps = tf.unstack(actions) as tf.Tensor2D[]; // H x [K, nu]
      let state: tf.Tensor2D = tf.tile(tf.tensor2d(x0, [1, nx]), [K, 1]); // [K, nx]
      let costs: tf.Tensor1D = tf.zeros([K]);
      for (const a of steps) {
        const [next, added] = tf.tidy(() => {
          const s = this.step(state, a);
          return [s, costs.add(this.stageCost(s, a, this.runningWeight))];
        }) as [tf.Tensor2D, tf.Tensor1D];
        state.dispose();
        costs.dispose();
        state = next;
        costs = added;
      }
      return costs.add(this.stageCost(state, steps[steps.length - 1]!, this.terminalWeight)) as tf.Tensor1D;
    });
  }

  dispose(): void {
    this.plan.dispose();
    for (const t of [this.noiseStd, this.low, this.high]) t.dispose();
    for (const m of this.members) for (const t of [...m.weights, ...m.bias]) t.dispose();
  }

  /** The hybrid model's step: RK4 of the analytic cart-pole plus the residual of (s, a). */
  private step(s: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor2D {
    const h = this.dt / this.substeps;
    const u = a.reshape([-1]) as tf.Tensor1D; // [K], the cart-pole has one action
    let x = s;
    for (let i = 0; i < this.substeps; i++) {
      const k1 = this.derivatives(x, u);
      const k2 = this.derivatives(x.add(k1.mul(0.5 * h)), u);
      const k3 = this.derivatives(x.add(k2.mul(0.5 * h)), u);
      const k4 = this.derivatives(x.add(k3.mul(h)), u);
      x = x.add(k1.add(k2.mul(2)).add(k3.mul(2)).add(k4).mul(h / 6));
    }
    return x.add(this.residual(s, a));
  }

  /** Cart-pole state derivative [K, 4] of states [K, 4] and actions [K]. */
  private derivatives(s: tf.Tensor2D, u: tf.Tensor1D): tf.Tensor2D {
    const [, th, xd, thd] = tf.unstack(s, 1) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const sn = tf.sin(th);
    const c = tf.cos(th);
    const f1 = u.mul(this.gear).sub(xd.mul(this.bx)).add(sn.mul(thd).mul(thd).mul(this.ml));
    const f2 = sn.mul(this.mlg).sub(thd.mul(this.bth));
    const b = c.mul(this.ml);
    const det = tf.scalar(this.Mt * this.J).sub(b.mul(b));
    const xdd = f1.mul(this.J).sub(b.mul(f2)).div(det);
    const thdd = f2.mul(this.Mt).sub(b.mul(f1)).div(det);
    return tf.stack([xd, thd, xdd, thdd], 1) as tf.Tensor2D;
  }

  /** Each sample's member's mean residual [K, nx]: contiguous blocks of ceil(K / E), as ResidualPredictor. */
  private residual(s: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor2D {
    const K = s.shape[0];
    const columns = tf.unstack(s, 1) as tf.Tensor1D[];
    const parts: tf.Tensor1D[] = [];
    columns.forEach((v, i) => (this.angular[i] ? parts.push(tf.sin(v), tf.cos(v)) : parts.push(v)));
    const features = tf.concat([tf.stack(parts, 1), a], 1) as tf.Tensor2D; // [K, inputDim]
    const block = Math.ceil(K / this.members.length);
    const outputs: tf.Tensor2D[] = [];
    this.members.forEach((m, i) => {
      const r0 = i * block;
      const r1 = Math.min(K, r0 + block);
      if (r1 <= r0) return;
      let y = features.slice([r0, 0], [r1 - r0, features.shape[1]]);
      const last = m.weights.length - 1;
      m.weights.forEach((W, l) => {
        y = tf.matMul(y, W).add(m.bias[l]!);
        if (l < last) y = tf.relu(y);
      });
      outputs.push(y);
    });
    return tf.concat(outputs, 0);
  }

  /** weight * (10 (1 - cos theta) + x^2 + 0.1 x_dot^2 + 0.01 u^2 + 0.01 theta_dot^2), [K]. */
  private stageCost(s: tf.Tensor2D, a: tf.Tensor2D, weight: number): tf.Tensor1D {
    const [x, th, xd, thd] = tf.unstack(s, 1) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const u = a.reshape([-1]);
    return tf
      .scalar(1)
      .sub(tf.cos(th))
      .mul(10)
      .add(x.square())
      .add(xd.square().mul(0.1))
      .add(u.square().mul(0.01))
      .add(thd.square().mul(0.01))
      .mul(weight) as tf.Tensor1D;
  }
}

/** Why `config` is not the W1 task this baseline writes out; empty when it is. */
function unsupported(config: Config): string[] {
  const why: string[] = [];
  const m = config.model;
  if (m.kind !== 'analytic' || m.robot !== 'cartpole') why.push(`model ${modelLabel(m)}, not the analytic cartpole`);
  if (m.integrator !== 'rk4') why.push(`integrator ${m.integrator}, not rk4`);
  if (m.residual === undefined) why.push('no model.residual');
  if (m.residual !== undefined && m.residual.uncertainty_weight !== 0) why.push('an uncertainty penalty');
  if (config.learning.value.enabled && config.learning.value.weight > 0) why.push('a terminal value');
  const p = config.planner;
  if (p.kind !== 'mppi') why.push(`planner ${p.kind}, not mppi`);
  else if (p.noise_smoothing !== 0) why.push('noise smoothing');
  const cost = config.task.cost;
  if (cost.length !== 1 || cost[0]!.kind !== 'expression' || cost[0]!.expr !== BENCH_COST_EXPR) why.push(`a cost other than "${BENCH_COST_EXPR}"`);
  return why;
}

/** Member m's layers with x_n = (x - mu) / sigma folded into the first and y = y_n s + c into the last. */
function memberLayers(s: EnsembleSnapshot, m: number): MemberLayers {
  const nx = s.spec.stateNames.length;
  const E = s.spec.members;
  const last = s.layers.length - 1;
  const weights: tf.Tensor2D[] = [];
  const bias: tf.Tensor1D[] = [];
  s.layers.forEach((layer, l) => {
    const outW = layer.bias.length / E;
    const inW = layer.weights.length / E / outW;
    let W: Float32Array = layer.weights.slice(m * inW * outW, (m + 1) * inW * outW); // [in, out]
    let b: Float32Array = layer.bias.slice(m * outW, (m + 1) * outW); // [out]
    if (l === 0) ({ W, b } = foldInputNormalizer(s.input, W, b));
    if (l === last) {
      // Only the mean columns, in state units; the log-variance is never used for planning.
      const Wm = new Float32Array(inW * nx); // [in, nx]
      const bm = new Float32Array(nx);
      for (let j = 0; j < nx; j++) {
        for (let i = 0; i < inW; i++) Wm[i * nx + j] = W[i * outW + j]! * s.target.std[j]!;
        bm[j] = b[j]! * s.target.std[j]! + s.target.mean[j]!;
      }
      W = Wm;
      b = bm;
    }
    weights.push(tf.tensor2d(W, [inW, W.length / inW]));
    bias.push(tf.tensor1d(b));
  });
  return { weights, bias };
}
