import type { Rng } from '../core/rng.js';

/**
 * Gaussian noise with power spectral density ~ 1/f^beta along time (beta = 0 white, 2 Brownian),
 * unit variance per element, as iCEM samples it. Made in the frequency domain: random spectra
 * scaled by f^(-beta/2), one inverse FFT of size N = nextPow2(H) per two sequences (one in the
 * real, one in the imaginary part), keeping the first H samples.
 */
export class ColoredNoise {
  private readonly n: number;
  private readonly scale: Float64Array; // [N/2 + 1] spectral amplitude per frequency bin
  private readonly re: Float64Array; // [N]
  private readonly im: Float64Array; // [N]
  private readonly cos: Float64Array; // [N/2] twiddles
  private readonly sin: Float64Array; // [N/2]
  private readonly bitrev: Uint32Array; // [N]
  private readonly norm: number;

  constructor(readonly beta: number, readonly length: number) {
    let n = 2;
    while (n < length) n *= 2;
    this.n = n;
    const half = n / 2;
    this.scale = new Float64Array(half + 1);
    for (let j = 0; j <= half; j++) {
      const f = Math.max(j, 1) / n; // lowest frequency stands in for DC, as in Timmer & Koenig
      this.scale[j] = Math.pow(f, -beta / 2);
    }
    // Variance of each output sample before normalization (with the 1/N of the inverse DFT).
    let sum = this.scale[0]! ** 2 + this.scale[half]! ** 2;
    for (let j = 1; j < half; j++) sum += 2 * this.scale[j]! ** 2;
    this.norm = 1 / (Math.sqrt(sum) / n);
    this.re = new Float64Array(n);
    this.im = new Float64Array(n);
    this.cos = new Float64Array(half);
    this.sin = new Float64Array(half);
    for (let j = 0; j < half; j++) {
      this.cos[j] = Math.cos((2 * Math.PI * j) / n);
      this.sin[j] = Math.sin((2 * Math.PI * j) / n);
    }
    const bits = Math.log2(n);
    this.bitrev = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.bitrev[i] = r;
    }
  }

  /**
   * Writes `count` independent sequences of `length` samples into `out`, sequence s at time t
   * going to out[offset + t * stride + s * step]: with stride = K*nu and step = nu it fills one
   * action dimension of an [H, K, nu] block.
   */
  fill(rng: Rng, out: Float32Array, count: number, offset: number, stride: number, step: number): void {
    const { n, re, im, scale, norm, length } = this;
    const half = n / 2;
    const r = Math.SQRT1_2;
    for (let s = 0; s < count; s += 2) {
      // Z = X + iY with X, Y Hermitian spectra of two real sequences x, y.
      re[0] = scale[0]! * rng.normal();
      im[0] = scale[0]! * rng.normal();
      re[half] = scale[half]! * rng.normal();
      im[half] = scale[half]! * rng.normal();
      for (let j = 1; j < half; j++) {
        const a = scale[j]! * r;
        const xr = a * rng.normal();
        const xi = a * rng.normal();
        const yr = a * rng.normal();
        const yi = a * rng.normal();
        re[j] = xr - yi;
        im[j] = xi + yr;
        re[n - j] = xr + yi; // conj(X) + i conj(Y)
        im[n - j] = -xi + yr;
      }
      this.inverseFft();
      const s2 = s + 1 < count;
      for (let t = 0; t < length; t++) {
        const o = offset + t * stride;
        out[o + s * step] = re[t]! * norm;
        if (s2) out[o + (s + 1) * step] = im[t]! * norm;
      }
    }
  }

  /** In-place iterative radix-2 inverse DFT (scaled by 1/N) of (re, im). */
  private inverseFft(): void {
    const { n, re, im, bitrev, cos, sin } = this;
    for (let i = 0; i < n; i++) {
      const j = bitrev[i]!;
      if (j > i) {
        let t = re[i]!;
        re[i] = re[j]!;
        re[j] = t;
        t = im[i]!;
        im[i] = im[j]!;
        im[j] = t;
      }
    }
    for (let size = 2; size <= n; size *= 2) {
      const halfSize = size / 2;
      const tstep = n / size;
      for (let start = 0; start < n; start += size) {
        for (let j = 0; j < halfSize; j++) {
          const wr = cos[j * tstep]!;
          const wi = sin[j * tstep]!; // +i for the inverse transform
          const a = start + j;
          const b = a + halfSize;
          const tr = wr * re[b]! - wi * im[b]!;
          const ti = wr * im[b]! + wi * re[b]!;
          re[b] = re[a]! - tr;
          im[b] = im[a]! - ti;
          re[a] = re[a]! + tr;
          im[a] = im[a]! + ti;
        }
      }
    }
    const inv = 1 / n;
    for (let i = 0; i < n; i++) {
      re[i] = re[i]! * inv;
      im[i] = im[i]! * inv;
    }
  }
}
