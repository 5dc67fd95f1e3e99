import { Rng } from '../../core/rng.js';
import { fitNormalizer, normalizeRows, type EnsembleLayer } from '../residual/ensemble-snapshot.js';
import { tf } from '../residual/tf-backend.js';
import { stateFeatureDim } from '../state-features.js';
import { valueLayerWidths, valueMemberLayer, type ValueSnapshot } from './value-snapshot.js';

export interface ValueFitOptions {
  readonly hidden: readonly number[];
  /** Networks fitted to the same targets from their own initial weights and batch orders; V is their mean. */
  readonly members: number;
  readonly maxEpochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly patience: number;
  readonly validationFraction: number;
  readonly seed: number;
}

/**
 * Least-squares fit of an ensemble of MLPs V(features) to targets (Adam, early stopping on
 * held-out rows), each member from its own initial weights and batch order. `warm` starts from
 * a previous fit of the same shape, which fitted value iteration does at every round.
 * features [rows, featureDim] raw, targets [rows].
 */
export function fitValue(
  base: Pick<ValueSnapshot, 'stateNames' | 'angular' | 'discount'>,
  features: Float32Array,
  targets: Float32Array,
  rows: number,
  opts: ValueFitOptions,
  warm?: ValueSnapshot,
): { snapshot: ValueSnapshot; validationMse: number; epochs: number } {
  const rng = new Rng(opts.seed);
  const d = stateFeatureDim(base.angular);
  const widths = valueLayerWidths({ angular: base.angular, hidden: opts.hidden });
  const input = fitNormalizer(features, rows, d);
  const Y = Float32Array.from(targets.subarray(0, rows));
  const target = fitNormalizer(Y, rows, 1);
  const X = Float32Array.from(features.subarray(0, rows * d));
  normalizeRows(input, X, rows);
  normalizeRows(target, Y, rows);
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const nVal = Math.max(1, Math.floor(rows * opts.validationFraction));
  const nTrain = rows - nVal;
  const gather = (idx: Int32Array, src: Float32Array, dim: number) => {
    const out = new Float32Array(idx.length * dim);
    idx.forEach((r, i) => out.set(src.subarray(r * dim, (r + 1) * dim), i * dim));
    return out;
  };
  const trainIdx = order.subarray(nVal);
  const xVal = gather(order.subarray(0, nVal), X, d);
  const yVal = gather(order.subarray(0, nVal), Y, 1);

  // Warm start only when the shape matches; its weights were fitted on other normalizers, which
  // is fine for a starting point.
  const reuse = warm !== undefined && warm.members === opts.members && warm.layers.length === widths.length - 1 && warm.hidden.every((h, i) => h === opts.hidden[i]);
  const M = opts.members;
  // Stacked like EnsembleSnapshot: weights [members, in, out], bias [members, out].
  const stacked = widths.slice(1).map((out, l) => ({ weights: new Float32Array(M * widths[l]! * out), bias: new Float32Array(M * out) }));
  let mseSum = 0;
  let epochsMax = 0;
  for (let m = 0; m < M; m++) {
    const fitted = fitMember(
      widths,
      (l) => (reuse ? valueMemberLayer(warm, l, m) : undefined),
      X,
      Y,
      d,
      trainIdx,
      xVal,
      yVal,
      opts,
      rng,
    );
    fitted.layers.forEach((layer, l) => {
      stacked[l]!.weights.set(layer.weights, m * layer.weights.length);
      stacked[l]!.bias.set(layer.bias, m * layer.bias.length);
    });
    mseSum += fitted.validationMse;
    epochsMax = Math.max(epochsMax, fitted.epochs);
  }
  return {
    snapshot: { stateNames: base.stateNames, angular: base.angular, hidden: [...opts.hidden], discount: base.discount, members: M, input, target, layers: stacked },
    validationMse: mseSum / M,
    epochs: epochsMax,
  };
}

/**
 * One member: Adam on the mean squared error over mini-batches of trainIdx's rows, early stopped
 * on the validation rows. X [rows, d] and Y [rows] normalized. start(l): layer l's starting
 * weights, or undefined for a fresh Glorot draw.
 */
function fitMember(
  widths: readonly number[],
  start: (l: number) => EnsembleLayer | undefined,
  X: Float32Array,
  Y: Float32Array,
  d: number,
  trainIdx: Int32Array,
  xVal: Float32Array,
  yVal: Float32Array,
  opts: ValueFitOptions,
  rng: Rng,
): { layers: EnsembleLayer[]; validationMse: number; epochs: number } {
  const nTrain = trainIdx.length;
  const nVal = yVal.length;
  const vars = widths.slice(1).map((out, l) => {
    const inn = widths[l]!;
    const given = start(l);
    let w: Float32Array;
    let b: Float32Array;
    if (given !== undefined) {
      w = Float32Array.from(given.weights);
      b = Float32Array.from(given.bias);
    } else {
      w = new Float32Array(inn * out);
      rng.fillNormal(w);
      const scale = Math.sqrt(2 / (inn + out));
      for (let i = 0; i < w.length; i++) w[i]! *= scale;
      b = new Float32Array(out);
    }
    return { W: tf.variable(tf.tensor2d(w, [inn, out])), b: tf.variable(tf.tensor1d(b)) };
  });
  const forward = (x: tf.Tensor2D): tf.Tensor => {
    let h: tf.Tensor = x;
    vars.forEach((v, l) => {
      h = tf.add(tf.matMul(h as tf.Tensor2D, v.W), v.b);
      if (l < vars.length - 1) h = tf.relu(h);
    });
    return h;
  };
  const optimizer = tf.train.adam(opts.learningRate);
  const B = Math.min(opts.batchSize, nTrain);
  const xb = new Float32Array(B * d);
  const yb = new Float32Array(B);
  let best = Infinity;
  let bestLayers: EnsembleLayer[] = [];
  let since = 0;
  let epoch = 0;
  const perm = Int32Array.from(trainIdx);
  for (epoch = 1; epoch <= opts.maxEpochs; epoch++) {
    for (let i = perm.length - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    for (let s = 0; s + B <= nTrain; s += B) {
      for (let i = 0; i < B; i++) {
        const r = perm[s + i]!;
        xb.set(X.subarray(r * d, (r + 1) * d), i * d);
        yb[i] = Y[r]!;
      }
      tf.tidy(() => {
        const x = tf.tensor2d(xb, [B, d]);
        const y = tf.tensor2d(yb, [B, 1]);
        optimizer.minimize(() => tf.mean(tf.square(tf.sub(forward(x), y))) as tf.Scalar);
      });
    }
    const mse = tf.tidy(() => tf.mean(tf.square(tf.sub(forward(tf.tensor2d(xVal, [nVal, d])), tf.tensor2d(yVal, [nVal, 1])))).dataSync()[0]!);
    if (mse < best * 0.995) {
      best = mse;
      since = 0;
      bestLayers = vars.map((v) => ({ weights: v.W.dataSync<'float32'>().slice(), bias: v.b.dataSync<'float32'>().slice() }));
    } else if (++since >= opts.patience) break;
  }
  for (const v of vars) {
    v.W.dispose();
    v.b.dispose();
  }
  optimizer.dispose();
  // Non-finite targets or a diverged fit: no epoch ever validated, so there is nothing to return.
  if (bestLayers.length === 0) throw new RangeError(`value fit never reached a finite validation error over ${trainIdx.length + nVal} rows (non-finite targets or divergence)`);
  return { layers: bestLayers, validationMse: best, epochs: Math.min(epoch, opts.maxEpochs) };
}
