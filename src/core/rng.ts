import { loadNativeMlpAddon } from './native-addon.js';

/**
 * Seeded pseudo-random generator (xoshiro128**, 32-bit state words) with normal deviates by the
 * ziggurat method (128 layers; one 32-bit draw per deviate 98.8% of the time, where the polar
 * Box-Muller method needed a log, a sqrt and a rejection loop: 4x faster here, and the planner
 * draws K*H*nu normals per iteration). Hand-written because those go into preallocated arrays
 * and must not allocate; one instance is passed down from the seed.
 */
export class Rng {
  /** xoshiro128** state, int32 words: plain number fields would box most values (beyond Smi range). */
  private readonly s = new Int32Array(4);

  constructor(seed: number) {
    // splitmix32 expands the seed into four non-zero state words.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s[0] = next();
    this.s[1] = next();
    this.s[2] = next();
    this.s[3] = next() | 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const s0 = s[0]!;
    const s1 = s[1]!;
    const s2 = s[2]! ^ s0;
    const s3 = s[3]! ^ s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    s[0] = s0 ^ s3;
    s[1] = s1 ^ s2;
    s[2] = s2 ^ (s1 << 9);
    s[3] = (s3 << 11) | (s3 >>> 21);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /**
   * Standard normal deviate. A draw's low 7 bits pick a layer, bit 7 the sign and the top 24
   * bits the position in it (float32 resolution, which is what the planner stores).
   */
  normal(): number {
    for (;;) {
      const b = this.nextU32();
      const i = b & 127;
      const x = (b >>> 8) * ZIG_SCALE[i]!;
      if (x < ZIG_X[i + 1]!) return (b & 128) === 0 ? x : -x;
      const y = i === 0 ? this.normalTail() : this.wedge(i, x);
      if (!Number.isNaN(y)) return (b & 128) === 0 ? y : -y;
    }
  }

  /** Beyond the base layer's edge r: Marsaglia's tail method. */
  private normalTail(): number {
    for (;;) {
      const a = -Math.log(1 - this.uniform()) / ZIG_R;
      const y = -Math.log(1 - this.uniform());
      if (2 * y >= a * a) return ZIG_R + a;
    }
  }

  /** x in layer i's wedge, outside its inner rectangle: accepted under the density, else NaN. */
  private wedge(i: number, x: number): number {
    const f = ZIG_F[i + 1]! + this.uniform() * (ZIG_F[i]! - ZIG_F[i + 1]!);
    return f < Math.exp(-0.5 * x * x) ? x : NaN;
  }

  /**
   * Fills out[offset .. offset + count) with standard normal deviates: the same stream as
   * `count` calls of normal(), drawn by the native kernel where it loads (a few ns each).
   */
  fillNormal(out: Float32Array, count = out.length, offset = 0): void {
    const fill = nativeNormalFill();
    if (fill !== null) return fill(this.s, ZIG_TABLES, out, offset, count);
    for (let i = 0; i < count; i++) out[offset + i] = this.normal();
  }

  /** A new generator whose stream is derived from this one (for per-episode or per-part seeds). */
  fork(): Rng {
    return new Rng(this.nextU32());
  }
}

type NormalFill = (state: Int32Array, tables: Float64Array, out: Float32Array, offset: number, count: number) => void;
let normalFill: NormalFill | null | undefined;

/** The native sampler (native/kernels/normal_kernel.c), or null where the addon is missing or MPCD_NO_NATIVE=1. */
function nativeNormalFill(): NormalFill | null {
  if (normalFill === undefined) {
    try {
      normalFill = process.env.MPCD_NO_NATIVE === '1' ? null : loadNativeMlpAddon().normalFill;
    } catch {
      normalFill = null;
    }
  }
  return normalFill;
}

/**
 * Ziggurat tables for the standard normal, 128 layers of equal area V (Marsaglia and Tsang 2000):
 * ZIG_X [129] the layers' right edges, from the base layer's virtual width V / f(r) down to 0;
 * ZIG_F [129] the unnormalized density exp(-x^2 / 2) at them; ZIG_SCALE [128] x_i / 2^24.
 */
const ZIG_R = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;
const ZIG_TABLES = new Float64Array(129 + 129 + 128); // X, F, SCALE, as the native sampler takes them
const ZIG_X = ZIG_TABLES.subarray(0, 129);
const ZIG_F = ZIG_TABLES.subarray(129, 258);
const ZIG_SCALE = ZIG_TABLES.subarray(258);
{
  const f = (x: number): number => Math.exp(-0.5 * x * x);
  ZIG_X[0] = ZIG_V / f(ZIG_R);
  ZIG_X[1] = ZIG_R;
  for (let i = 1; i < 127; i++) ZIG_X[i + 1] = Math.sqrt(-2 * Math.log(ZIG_V / ZIG_X[i]! + f(ZIG_X[i]!)));
  ZIG_X[128] = 0;
  for (let i = 0; i < 129; i++) ZIG_F[i] = f(ZIG_X[i]!);
  for (let i = 0; i < 128; i++) ZIG_SCALE[i] = ZIG_X[i]! / 16777216;
}
