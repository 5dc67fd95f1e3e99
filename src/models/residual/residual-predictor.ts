import { tf } from './tf-backend.js';
import { foldInputNormalizer, type EnsembleSnapshot } from './ensemble-snapshot.js';
import { inputDim, writeFeatures, type ResidualSpec } from './residual-spec.js';

/** One elite member's layers as tensors, with the normalizers folded in. */
interface MemberTensors {
  readonly weights: tf.Tensor2D[]; // per layer [in, out]
  readonly bias: tf.Tensor1D[]; // per layer [out]
}

/**
 * The residual ensemble in the planner: the mean residual of each sample's member, in state
 * units, added to the analytic prediction. Samples are split into contiguous blocks, one per
 * elite member, and each block keeps its member for the whole horizon (PETS TS-infinity):
 * with i.i.d. sample noise a block assignment is as random as any other.
 *
 * Each member runs as a few batched fused matmuls (bias and ReLU fused) per horizon step,
 * never op by op per sample. The input normalizer is folded into the first layer and the
 * target de-normalization into the mean columns of the last, whose log-variance columns the
 * planner never needs and are dropped.
 */
export class ResidualPredictor {
  readonly spec: ResidualSpec;
  readonly members: number;
  private readonly tensors: MemberTensors[];
  private readonly features: Float32Array; // [maxBatch, inputDim]
  private readonly memberMeans: Float32Array; // [members, maxBatch, nx], for disagreement
  private readonly targetVar: Float32Array; // [nx], to measure disagreement in normalized units
  private disposed = false;

  constructor(
    snapshot: EnsembleSnapshot,
    readonly maxBatch: number,
  ) {
    this.spec = snapshot.spec;
    this.members = snapshot.elites.length;
    this.tensors = snapshot.elites.map((m) => memberTensors(snapshot, m));
    this.features = new Float32Array(maxBatch * inputDim(this.spec));
    this.memberMeans = new Float32Array(this.members * maxBatch * this.spec.stateNames.length);
    this.targetVar = snapshot.target.std.map((s) => s * s);
  }

  /**
   * out[k] += residual mean of sample k's member, for k < count.
   * states [count, nx], actions [count, nu], out [count, nx].
   * With `disagreement` [count]: every member predicts every sample, and disagreement[k] gets
   * the members' variance of the normalized mean, summed over state dimensions.
   */
  addResidual(states: Float32Array, actions: Float32Array, out: Float32Array, count: number, disagreement?: Float32Array): void {
    const nx = this.spec.stateNames.length;
    const d = inputDim(this.spec);
    writeFeatures(this.spec, states, actions, count, this.features);
    const block = Math.ceil(count / this.members);
    if (disagreement === undefined) {
      for (let m = 0; m < this.members; m++) {
        const r0 = m * block;
        const r1 = Math.min(count, r0 + block);
        if (r1 <= r0) break;
        const y = this.forward(m, this.features.subarray(r0 * d, r1 * d), r1 - r0);
        const base = r0 * nx;
        for (let i = 0; i < y.length; i++) out[base + i]! += y[i]!;
      }
      return;
    }
    const stride = count * nx;
    for (let m = 0; m < this.members; m++) this.memberMeans.set(this.forward(m, this.features.subarray(0, count * d), count), m * stride);
    for (let k = 0; k < count; k++) {
      const own = Math.min(Math.floor(k / block), this.members - 1);
      let spread = 0;
      for (let i = 0; i < nx; i++) {
        let mean = 0;
        for (let m = 0; m < this.members; m++) mean += this.memberMeans[m * stride + k * nx + i]!;
        mean /= this.members;
        let v = 0;
        for (let m = 0; m < this.members; m++) v += (this.memberMeans[m * stride + k * nx + i]! - mean) ** 2;
        spread += v / this.members / this.targetVar[i]!;
        out[k * nx + i]! += this.memberMeans[own * stride + k * nx + i]!;
      }
      disagreement[k] = spread;
    }
  }

  /** Member m's mean residual in state units for `rows` feature rows, [rows, nx]. */
  private forward(m: number, features: Float32Array, rows: number): Float32Array {
    const t = this.tensors[m]!;
    return tf.tidy(() => {
      let h: tf.Tensor = tf.tensor2d(features, [rows, features.length / rows]);
      const last = t.weights.length - 1;
      for (let l = 0; l <= last; l++) h = tf.fused.matMul({ a: h as tf.Tensor2D, b: t.weights[l]!, bias: t.bias[l]!, activation: l < last ? 'relu' : 'linear' });
      return h.dataSync() as Float32Array;
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.tensors) for (const x of [...t.weights, ...t.bias]) x.dispose();
  }
}

/** Member m's tensors with normalizers folded in: x_n = (x - mu) / sigma, y = y_n * s + c. */
function memberTensors(s: EnsembleSnapshot, m: number): MemberTensors {
  const nx = s.spec.stateNames.length;
  const weights: tf.Tensor2D[] = [];
  const bias: tf.Tensor1D[] = [];
  const last = s.layers.length - 1;
  s.layers.forEach((layer, l) => {
    const members = s.spec.members;
    const outW = layer.bias.length / members;
    const inW = layer.weights.length / members / outW;
    let W: Float32Array = layer.weights.slice(m * inW * outW, (m + 1) * inW * outW); // [in, out]
    let b: Float32Array = layer.bias.slice(m * outW, (m + 1) * outW);
    if (l === 0) ({ W, b } = foldInputNormalizer(s.input, W, b));
    if (l === last) {
      // Keep the mean columns only, scaled to state units.
      const W2 = new Float32Array(inW * nx);
      const b2 = new Float32Array(nx);
      for (let j = 0; j < nx; j++) {
        const sc = s.target.std[j]!;
        for (let i = 0; i < inW; i++) W2[i * nx + j] = W[i * outW + j]! * sc;
        b2[j] = b[j]! * sc + s.target.mean[j]!;
      }
      weights.push(tf.tensor2d(W2, [inW, nx]));
      bias.push(tf.tensor1d(b2));
      return;
    }
    weights.push(tf.tensor2d(W, [inW, outW]));
    bias.push(tf.tensor1d(b));
  });
  return { weights, bias };
}
