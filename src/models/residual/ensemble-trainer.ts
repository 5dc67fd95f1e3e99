import { Rng } from '../../core/rng.js';
import { fitNormalizer, normalizeRows, type EnsembleLayer, type EnsembleSnapshot } from './ensemble-snapshot.js';
import { layerWidths, inputDim, type ResidualSpec } from './residual-spec.js';
import { tf } from './tf-backend.js';

/** Training data: raw features and raw targets (s' - f_analytic(s, a)), row-aligned. */
export interface ResidualDataset {
  readonly features: Float32Array; // [rows, inputDim]
  readonly targets: Float32Array; // [rows, nx]
  readonly rows: number;
}

export interface TrainOptions {
  readonly elites: number;
  readonly maxEpochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly weightDecay: number;
  /** Stop after this many epochs without a relative validation improvement of 1% by any member. */
  readonly patience: number;
  /** Fraction of rows held out (not bootstrapped) for early stopping and elite selection. */
  readonly validationFraction: number;
  readonly seed: number;
  /** Wall-clock cap, s: a refit never runs unbounded. */
  readonly maxSeconds: number;
}

export interface TrainReport {
  readonly epochs: number;
  readonly rows: number;
  /** Per member: best validation MSE of the normalized mean. */
  readonly memberValidationMse: number[];
  readonly elites: number[];
  readonly seconds: number;
  readonly stoppedBy: 'patience' | 'max_epochs' | 'max_seconds';
}

/**
 * Trains a Gaussian MLP ensemble on normalized residuals with the Gaussian negative
 * log-likelihood (PETS): every member on its own bootstrap of the training rows, one batched
 * graph for all members ([E, B, d] tensors), early stopping on held-out rows, elites = the
 * best members on validation. The log-variance is softly bounded by learned limits.
 */
export function trainEnsemble(
  spec: ResidualSpec,
  data: ResidualDataset,
  opts: TrainOptions,
  onEpoch?: (epoch: number, bestMse: number) => void,
  /** Called before every batch; may block (a real-time refit waits out the planner's ticks). */
  beforeBatch?: () => void,
): { snapshot: EnsembleSnapshot; report: TrainReport } {
  const t0 = performance.now();
  const rng = new Rng(opts.seed);
  const d = inputDim(spec);
  const nx = spec.stateNames.length;
  const E = spec.members;
  if (data.rows < 10) throw new RangeError(`need at least 10 rows to train, got ${data.rows}`);

  // Split: a random validation set, the rest bootstrapped per member.
  const order = shuffled(data.rows, rng);
  const nVal = Math.max(1, Math.floor(data.rows * opts.validationFraction));
  const valIdx = order.subarray(0, nVal);
  const trainIdx = order.subarray(nVal);
  const nTrain = trainIdx.length;
  const input = fitNormalizer(gatherRows(data.features, d, trainIdx), nTrain, d);
  const target = fitNormalizer(gatherRows(data.targets, nx, trainIdx), nTrain, nx);
  const X = Float32Array.from(data.features);
  const Y = Float32Array.from(data.targets);
  normalizeRows(input, X, data.rows);
  normalizeRows(target, Y, data.rows);
  const boot = Array.from({ length: E }, () => Int32Array.from({ length: nTrain }, () => trainIdx[Math.floor(rng.uniform() * nTrain)]!));

  const widths = layerWidths(spec);
  const vars = widths.slice(1).map((out, l) => {
    const inn = widths[l]!;
    const w = new Float32Array(E * inn * out);
    rng.fillNormal(w);
    const scale = Math.sqrt(2 / (inn + out));
    for (let i = 0; i < w.length; i++) w[i]! *= scale;
    return { W: tf.variable(tf.tensor3d(w, [E, inn, out])), b: tf.variable(tf.zeros([E, 1, out])) };
  });
  const maxLv = tf.variable(tf.fill([1, 1, nx], 0.5));
  const minLv = tf.variable(tf.fill([1, 1, nx], -10));
  const optimizer = tf.train.adam(opts.learningRate);

  const forward = (x: tf.Tensor3D): { mean: tf.Tensor; logVar: tf.Tensor } => {
    let h: tf.Tensor = x;
    vars.forEach((v, l) => {
      h = tf.add(tf.matMul(h as tf.Tensor3D, v.W), v.b);
      if (l < vars.length - 1) h = tf.relu(h);
    });
    const mean = tf.slice(h, [0, 0, 0], [-1, -1, nx]);
    let lv = tf.slice(h, [0, 0, nx], [-1, -1, nx]);
    lv = tf.sub(maxLv, tf.softplus(tf.sub(maxLv, lv)));
    lv = tf.add(minLv, tf.softplus(tf.sub(lv, minLv)));
    return { mean, logVar: lv };
  };

  const B = Math.min(opts.batchSize, nTrain);
  const xb = new Float32Array(E * B * d); // [E, B, d]
  const yb = new Float32Array(E * B * nx); // [E, B, nx]
  const xVal = gatherRows(X, d, valIdx);
  const yVal = gatherRows(Y, nx, valIdx);
  const best = new Float64Array(E).fill(Infinity);
  const bestWeights: Float32Array[][] = vars.map(() => []);
  let bestMaxLv = maxLv.dataSync<'float32'>().slice();
  let bestMinLv = minLv.dataSync<'float32'>().slice();
  let sinceImproved = 0;
  let epoch = 0;
  let stoppedBy: TrainReport['stoppedBy'] = 'max_epochs';
  const perm = boot.map(() => new Int32Array(nTrain));

  for (epoch = 1; epoch <= opts.maxEpochs; epoch++) {
    for (let m = 0; m < E; m++) perm[m]!.set(shuffledFrom(boot[m]!, rng));
    for (let start = 0; start + B <= nTrain; start += B) {
      beforeBatch?.();
      for (let m = 0; m < E; m++) {
        for (let i = 0; i < B; i++) {
          const r = perm[m]![start + i]!;
          xb.set(X.subarray(r * d, (r + 1) * d), (m * B + i) * d);
          yb.set(Y.subarray(r * nx, (r + 1) * nx), (m * B + i) * nx);
        }
      }
      tf.tidy(() => {
        const x = tf.tensor3d(xb, [E, B, d]);
        const y = tf.tensor3d(yb, [E, B, nx]);
        optimizer.minimize(() => {
          const { mean, logVar } = forward(x);
          const nll = tf.mean(tf.add(tf.mul(tf.square(tf.sub(mean, y)), tf.exp(tf.neg(logVar))), logVar));
          const bounds = tf.mul(0.01, tf.sub(tf.sum(maxLv), tf.sum(minLv)));
          const decay = tf.addN(vars.map((v) => tf.sum(tf.square(v.W))));
          return tf.add(tf.add(nll, bounds), tf.mul(opts.weightDecay, decay)) as tf.Scalar;
        });
      });
    }
    // Validation MSE of the mean, per member.
    const mse = tf.tidy(() => {
      const x = tf.tensor3d(tileMembers(xVal, E), [E, nVal, d]);
      const y = tf.tensor3d(tileMembers(yVal, E), [E, nVal, nx]);
      return tf.mean(tf.square(tf.sub(forward(x).mean, y)), [1, 2]).dataSync();
    });
    let improved = false;
    for (let m = 0; m < E; m++) {
      if (mse[m]! < best[m]! * 0.99) {
        improved = true;
        best[m] = mse[m]!;
        bestWeights.forEach((_, l) => {
          const W = vars[l]!.W.dataSync<'float32'>();
          const b = vars[l]!.b.dataSync<'float32'>();
          const inn = widths[l]!;
          const out = widths[l + 1]!;
          bestWeights[l]![2 * m] = W.slice(m * inn * out, (m + 1) * inn * out);
          bestWeights[l]![2 * m + 1] = b.slice(m * out, (m + 1) * out);
        });
        bestMaxLv = maxLv.dataSync<'float32'>().slice();
        bestMinLv = minLv.dataSync<'float32'>().slice();
      }
    }
    onEpoch?.(epoch, Math.min(...best));
    sinceImproved = improved ? 0 : sinceImproved + 1;
    if (sinceImproved >= opts.patience) {
      stoppedBy = 'patience';
      break;
    }
    if ((performance.now() - t0) / 1000 > opts.maxSeconds) {
      stoppedBy = 'max_seconds';
      break;
    }
  }
  epoch = Math.min(epoch, opts.maxEpochs);

  const layers: EnsembleLayer[] = widths.slice(1).map((out, l) => {
    const inn = widths[l]!;
    const weights = new Float32Array(E * inn * out);
    const bias = new Float32Array(E * out);
    for (let m = 0; m < E; m++) {
      weights.set(bestWeights[l]![2 * m]!, m * inn * out);
      bias.set(bestWeights[l]![2 * m + 1]!, m * out);
    }
    return { weights, bias };
  });
  for (const v of vars) {
    v.W.dispose();
    v.b.dispose();
  }
  maxLv.dispose();
  minLv.dispose();
  optimizer.dispose();

  const ranked = Array.from(best.keys()).sort((a, b) => best[a]! - best[b]!);
  const elites = ranked.slice(0, Math.min(opts.elites, E));
  return {
    snapshot: { spec, input, target, layers, maxLogVar: Float32Array.from(bestMaxLv), minLogVar: Float32Array.from(bestMinLv), elites },
    report: {
      epochs: epoch,
      rows: data.rows,
      memberValidationMse: Array.from(best),
      elites,
      seconds: (performance.now() - t0) / 1000,
      stoppedBy,
    },
  };
}

function shuffled(n: number, rng: Rng): Int32Array {
  const a = Int32Array.from({ length: n }, (_, i) => i);
  return shuffledFrom(a, rng);
}

/** Fisher-Yates shuffle of a copy. */
function shuffledFrom(src: Int32Array, rng: Rng): Int32Array {
  const a = Int32Array.from(src);
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

function gatherRows(data: Float32Array, dim: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(data.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
}

function tileMembers(rows: Float32Array, members: number): Float32Array {
  const out = new Float32Array(rows.length * members);
  for (let m = 0; m < members; m++) out.set(rows, m * rows.length);
  return out;
}
