import { foldInputNormalizer, type EnsembleSnapshot } from './ensemble-snapshot.js';
import type { MlpKernel, MlpLayer, MlpNetwork } from './mlp-kernel.js';
import { plannerKernel } from './planner-kernel.js';
import { featureWriter, inputDim, type FeatureWriter, type ResidualSpec } from './residual-spec.js';

/**
 * The residual ensemble in the planner: the mean residual of each sample's member, in state
 * units, added to the analytic prediction. A population of samples is split into contiguous
 * blocks, one per elite member, and each sample keeps its member for the whole horizon (PETS
 * TS-infinity): with i.i.d. sample noise a block assignment is as random as any other.
 *
 * Each member is one MLP network of the planner's kernel (native SIMD where it built), run on
 * its block in place: the input normalizer is folded into the first layer and the target
 * de-normalization into the mean columns of the last, whose log-variance columns the planner
 * never needs and are dropped. Nothing allocates per call.
 */
export class ResidualPredictor {
  readonly spec: ResidualSpec;
  readonly members: number;
  private readonly nets: MlpNetwork[];
  private readonly features: Float32Array; // [maxBatch, inputDim]
  private readonly writeFeatures: FeatureWriter;
  private readonly memberMeans: Float32Array; // [members, maxBatch, nx], for disagreement
  private readonly targetVar: Float32Array; // [nx], to measure disagreement in normalized units
  private disposed = false;

  constructor(
    readonly snapshot: EnsembleSnapshot,
    readonly maxBatch: number,
    kernel: MlpKernel = plannerKernel(),
  ) {
    this.spec = snapshot.spec;
    this.members = snapshot.elites.length;
    this.nets = snapshot.elites.map((m) => kernel.createNetwork(memberLayers(snapshot, m), maxBatch));
    this.features = new Float32Array(maxBatch * inputDim(this.spec));
    this.writeFeatures = featureWriter(this.spec);
    this.memberMeans = new Float32Array(this.members * maxBatch * this.spec.stateNames.length);
    this.targetVar = snapshot.target.std.map((s) => s * s);
  }

  /**
   * out[k] += residual mean of sample k's member, for k < count.
   * states [count, nx], actions [count, nu], out [count, nx].
   * The rows are samples [first, first + count) of a population of `total`; sample i's member is
   * elite min(floor(i / ceil(total / members)), members - 1).
   * With `disagreement` [count]: every member predicts every sample, and disagreement[k] gets
   * the members' variance of the normalized mean, summed over state dimensions.
   */
  addResidual(
    states: Float32Array,
    actions: Float32Array,
    out: Float32Array,
    count: number,
    disagreement?: Float32Array,
    first = 0,
    total = count,
  ): void {
    const nx = this.spec.stateNames.length;
    const d = inputDim(this.spec);
    this.writeFeatures(states, actions, count, this.features);
    const block = Math.ceil(total / this.members);
    if (disagreement === undefined) {
      for (let m = 0; m < this.members; m++) {
        const r0 = Math.max(m * block, first) - first;
        const r1 = Math.min(m === this.members - 1 ? total : (m + 1) * block, first + count) - first;
        if (r1 > r0) this.nets[m]!.forward(this.features, r0 * d, r1 - r0, out, r0 * nx, true);
      }
      return;
    }
    const stride = count * nx;
    for (let m = 0; m < this.members; m++) this.nets[m]!.forward(this.features, 0, count, this.memberMeans, m * stride, false);
    for (let k = 0; k < count; k++) {
      const own = Math.min(Math.floor((first + k) / block), this.members - 1);
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

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const n of this.nets) n.dispose();
  }
}

/** Member m's layers with normalizers folded in: x_n = (x - mu) / sigma, y = y_n * s + c. */
export function memberLayers(s: EnsembleSnapshot, m: number): MlpLayer[] {
  const nx = s.spec.stateNames.length;
  const last = s.layers.length - 1;
  return s.layers.map((layer, l) => {
    const members = s.spec.members;
    const outW = layer.bias.length / members;
    const inW = layer.weights.length / members / outW;
    let W: Float32Array = layer.weights.slice(m * inW * outW, (m + 1) * inW * outW); // [in, out]
    let b: Float32Array = layer.bias.slice(m * outW, (m + 1) * outW);
    if (l === 0) ({ W, b } = foldInputNormalizer(s.input, W, b));
    if (l < last) return { weights: W, bias: b };
    // Keep the mean columns only, scaled to state units.
    const W2 = new Float32Array(inW * nx); // [in, nx]
    const b2 = new Float32Array(nx);
    for (let j = 0; j < nx; j++) {
      const sc = s.target.std[j]!;
      for (let i = 0; i < inW; i++) W2[i * nx + j] = W[i * outW + j]! * sc;
      b2[j] = b[j]! * sc + s.target.mean[j]!;
    }
    return { weights: W2, bias: b2 };
  });
}
