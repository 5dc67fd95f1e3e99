import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { ColoredNoise } from '../../src/planning/colored-noise.js';

/**
 * Draws `count` sequences of length H into a contiguous [count, H] array (stride 1, step H),
 * i.e. sequence s at time t is out[s * H + t].
 */
function draw(beta: number, H: number, count: number, seed: number): Float32Array {
  const noise = new ColoredNoise(beta, H);
  const out = new Float32Array(count * H);
  noise.fill(new Rng(seed), out, count, 0, 1, H);
  return out;
}

interface Moments {
  mean: Float64Array; // [H] per time step, over sequences
  variance: Float64Array; // [H]
  lag1: number; // pooled lag-1 autocorrelation
}

function moments(x: Float32Array, H: number, count: number): Moments {
  const mean = new Float64Array(H);
  const variance = new Float64Array(H);
  for (let s = 0; s < count; s++) for (let t = 0; t < H; t++) mean[t] = mean[t]! + x[s * H + t]! / count;
  for (let s = 0; s < count; s++) {
    for (let t = 0; t < H; t++) variance[t] = variance[t]! + (x[s * H + t]! - mean[t]!) ** 2 / (count - 1);
  }
  let cov = 0;
  let var0 = 0;
  let var1 = 0;
  for (let s = 0; s < count; s++) {
    for (let t = 0; t + 1 < H; t++) {
      const a = x[s * H + t]! - mean[t]!;
      const b = x[s * H + t + 1]! - mean[t + 1]!;
      cov += a * b;
      var0 += a * a;
      var1 += b * b;
    }
  }
  return { mean, variance, lag1: cov / Math.sqrt(var0 * var1) };
}

/**
 * The exact lag-1 correlation of this generator: its output is a stationary circular process on
 * N = nextPow2(H) points with power |scale_j|^2, so corr(x_t, x_{t+1}) = sum_j P_j cos(2 pi j / N) /
 * sum_j P_j over the N bins (DC weighted like the lowest frequency, as the generator does).
 */
function theoreticalLag1(beta: number, H: number): number {
  let n = 2;
  while (n < H) n *= 2;
  let num = 0;
  let den = 0;
  for (let j = 0; j < n; j++) {
    const k = Math.min(j, n - j);
    const p = Math.pow(Math.max(k, 1) / n, -beta);
    num += p * Math.cos((2 * Math.PI * j) / n);
    den += p;
  }
  return num / den;
}

describe('ColoredNoise statistics', () => {
  const H = 50;
  const COUNT = 8000;
  // Per time step, the sample mean of COUNT independent unit-variance values has standard error
  // 1/sqrt(COUNT) = 0.011 and the sample variance sqrt(2/COUNT) = 0.016; 5 standard errors.
  const meanTol = 5 / Math.sqrt(COUNT);
  const varTol = 5 * Math.sqrt(2 / COUNT);

  for (const beta of [0, 1, 2]) {
    it(`beta=${beta}: mean ~0 and variance ~1 at every time step`, () => {
      const x = draw(beta, H, COUNT, 100 + beta);
      const m = moments(x, H, COUNT);
      let pooledVar = 0;
      for (let t = 0; t < H; t++) {
        assert.ok(Math.abs(m.mean[t]!) < meanTol, `t=${t}: mean ${m.mean[t]}`);
        assert.ok(Math.abs(m.variance[t]! - 1) < varTol, `t=${t}: variance ${m.variance[t]}`);
        pooledVar += m.variance[t]! / H;
      }
      // Averaged over time steps the variance is pinned down much better (for beta = 0 the time
      // steps are independent: standard error sqrt(2 / (COUNT H)) = 0.002).
      assert.ok(Math.abs(pooledVar - 1) < 0.05, `pooled variance ${pooledVar}`);
      for (const v of x) assert.ok(Number.isFinite(v));
    });
  }

  it('beta=0 gives uncorrelated neighbouring samples', () => {
    const m = moments(draw(0, H, COUNT, 7), H, COUNT);
    // (H-1)*COUNT ~ 4e5 pairs: standard error ~0.0016.
    assert.ok(Math.abs(m.lag1) < 0.01, `lag-1 autocorrelation ${m.lag1}`);
    assert.ok(Math.abs(theoreticalLag1(0, H)) < 1e-12);
  });

  it('beta=2 gives strongly correlated neighbours; beta=1 lies in between', () => {
    const r2 = moments(draw(2, H, COUNT, 8), H, COUNT).lag1;
    const r1 = moments(draw(1, H, COUNT, 9), H, COUNT).lag1;
    assert.ok(r2 > 0.8, `beta=2 lag-1 autocorrelation ${r2}`);
    assert.ok(r1 > 0.1 && r1 < r2, `beta=1 lag-1 autocorrelation ${r1} (beta=2: ${r2})`);
    // And it matches the generator's exact spectrum (within a few standard errors of a correlated
    // estimate).
    assert.ok(Math.abs(r2 - theoreticalLag1(2, H)) < 0.02, `${r2} vs ${theoreticalLag1(2, H)}`);
    assert.ok(Math.abs(r1 - theoreticalLag1(1, H)) < 0.02, `${r1} vs ${theoreticalLag1(1, H)}`);
  });

  it('the two sequences made from one FFT (real and imaginary parts) are independent', () => {
    // Sequences 2i and 2i+1 come from one inverse FFT; their cross-correlation must be ~0.
    for (const beta of [0, 2]) {
      const x = draw(beta, H, COUNT, 30 + beta);
      let c = 0;
      let n = 0;
      for (let s = 0; s + 1 < COUNT; s += 2) {
        for (let t = 0; t < H; t++) {
          c += x[s * H + t]! * x[(s + 1) * H + t]!;
          n++;
        }
      }
      // beta=2 sequences are strongly time-correlated, so the effective count is ~COUNT/2 pairs.
      assert.ok(Math.abs(c / n) < 5 / Math.sqrt(COUNT / 2), `beta=${beta}: cross-correlation ${c / n}`);
    }
  });

  it('the same seed gives the same sequences, another seed different ones', () => {
    const a = draw(2, 13, 5, 42);
    const b = draw(2, 13, 5, 42);
    const c = draw(2, 13, 5, 43);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});

describe('ColoredNoise writing pattern', () => {
  // An [H, K, nu] block as the planners use it: sequence s of action dimension j at time t goes to
  // out[offset + t * stride + s * step] with offset = first * nu + j, stride = K * nu, step = nu.
  const H = 7; // not a power of two: the FFT is 8 long and only 7 samples are kept
  const K = 6;
  const nu = 3;

  for (const [count, first, j] of [
    [3, 2, 1], // odd count: the last FFT's imaginary part is thrown away
    [4, 1, 0],
    [6, 0, 2], // the whole block of one dimension
    [1, 5, 2], // a single sequence in the last slot
  ] as const) {
    it(`count=${count} from slot ${first}, dimension ${j}: fills exactly the intended slots`, () => {
      const out = new Float32Array(H * K * nu).fill(Number.NaN);
      const noise = new ColoredNoise(1, H);
      noise.fill(new Rng(5), out, count, first * nu + j, K * nu, nu);
      let written = 0;
      for (let t = 0; t < H; t++) {
        for (let k = 0; k < K; k++) {
          for (let d = 0; d < nu; d++) {
            const v = out[t * K * nu + k * nu + d]!;
            const intended = d === j && k >= first && k < first + count;
            if (intended) {
              assert.ok(Number.isFinite(v), `slot t=${t} k=${k} j=${d} not written`);
              written++;
            } else {
              assert.ok(Number.isNaN(v), `slot t=${t} k=${k} j=${d} overwritten with ${v}`);
            }
          }
        }
      }
      assert.equal(written, count * H);

      // The values are the same sequences a contiguous [count, H] fill draws from the same seed:
      // time runs along `stride`, sequences along `step`.
      const ref = new Float32Array(count * H);
      new ColoredNoise(1, H).fill(new Rng(5), ref, count, 0, 1, H);
      for (let s = 0; s < count; s++) {
        for (let t = 0; t < H; t++) {
          assert.equal(out[first * nu + j + t * K * nu + s * nu], ref[s * H + t], `sequence ${s}, t=${t}`);
        }
      }
    });
  }

  it('count=0 writes nothing', () => {
    const out = new Float32Array(H * K * nu).fill(Number.NaN);
    new ColoredNoise(2, H).fill(new Rng(1), out, 0, 0, K * nu, nu);
    assert.ok(out.every((v) => Number.isNaN(v)));
  });

  it('filling every dimension of a block one at a time fills the whole block (as iCEM does)', () => {
    const out = new Float32Array(H * K * nu).fill(Number.NaN);
    const noise = new ColoredNoise(2, H);
    const rng = new Rng(9);
    for (let j = 0; j < nu; j++) noise.fill(rng, out, K, j, K * nu, nu);
    assert.ok(out.every((v) => Number.isFinite(v)));
  });

  it('works for a power-of-two length and for length 1', () => {
    for (const len of [16, 1]) {
      const out = new Float32Array(len * 3).fill(Number.NaN);
      new ColoredNoise(2, len).fill(new Rng(3), out, 3, 0, 1, len);
      assert.ok(out.every((v) => Number.isFinite(v)), `length ${len}`);
    }
  });
});
