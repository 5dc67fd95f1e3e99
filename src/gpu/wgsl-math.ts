import { INFINITY_SLOT, NAN_SLOT } from './param-block.js';

/**
 * WGSL helpers that give the CPU's answers in float32. WGSL's own sin and cos only promise an
 * absolute error of 2^-11 on [-pi, pi] and nothing outside it, so the dynamics and costs use a
 * range-reduced polynomial good to ~1 ulp for |x| < ~6000 rad, and atan, atan2, asin and acos
 * are written here too; the other builtins that are undefined off their domain (sqrt, log, asin, acos, pow of negatives) are guarded to return
 * NaN as JavaScript's Math does. NaN tests use the bit pattern, which no fast-math pass may
 * assume away.
 */

/** A float32 WGSL literal that reads back as exactly Math.fround(v); v must be finite. */
export function f32Literal(v: number): string {
  const f = Math.fround(v);
  if (!Number.isFinite(f)) throw new RangeError(`internal: ${v} is not a finite float32`);
  return `${f.toPrecision(9)}f`;
}

/** pi/2 split into float32 parts whose products with a quadrant count below 2^12 are exact. */
function splitHalfPi(): [number, number, number] {
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  const top12 = (v: number): number => {
    f[0] = v;
    bits[0] = bits[0]! & ~0xfff;
    return f[0]!;
  };
  const half = Math.PI / 2;
  const p1 = top12(half);
  const p2 = top12(half - p1);
  return [p1, p2, Math.fround(half - p1 - p2)];
}

const [P1, P2, P3] = splitHalfPi();
const L = f32Literal;
const inv = (n: number): string => L(1 / n);

export const WGSL_MATH = /* wgsl */ `
fn mpcd_nan() -> f32 { return ${NAN_SLOT}; }
fn mpcd_inf() -> f32 { return ${INFINITY_SLOT}; }
fn mpcd_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn mpcd_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }

// (sin x, cos x): x = n pi/2 + r with |r| <= ~pi/4, Taylor series on r, quadrant by n mod 4.
fn mpcd_sincos(x: f32) -> vec2<f32> {
  let n = round(x * ${L(2 / Math.PI)});
  let r = ((x - n * ${L(P1)}) - n * ${L(P2)}) - n * ${L(P3)};
  let z = r * r;
  let s = r + r * z * (${L(-1 / 6)} + z * (${inv(120)} + z * (${L(-1 / 5040)} + z * ${inv(362880)})));
  let c = (1.0f - 0.5f * z) + z * z * (${inv(24)} + z * (${L(-1 / 720)} + z * (${inv(40320)} + z * ${L(-1 / 3628800)})));
  let q = u32(i32(n)) & 3u;
  var v = vec2<f32>(s, c);
  if ((q & 1u) != 0u) { v = vec2<f32>(c, -s); }
  if ((q & 2u) != 0u) { v = -v; }
  return v;
}
fn mpcd_sin(x: f32) -> f32 { return mpcd_sincos(x).x; }
fn mpcd_cos(x: f32) -> f32 { return mpcd_sincos(x).y; }
fn mpcd_tan(x: f32) -> f32 { let v = mpcd_sincos(x); return v.x / v.y; }

// core/angles.ts wrapAngle: to [-pi, pi).
fn mpcd_wrap(a: f32) -> f32 {
  let r = a - ${L(2 * Math.PI)} * floor((a + ${L(Math.PI)}) / ${L(2 * Math.PI)});
  return select(r, r - ${L(2 * Math.PI)}, r >= ${L(Math.PI)});
}

// Math.min / Math.max: NaN wins.
fn mpcd_min(a: f32, b: f32) -> f32 { return select(min(a, b), a + b, mpcd_isnan(a) || mpcd_isnan(b)); }
fn mpcd_max(a: f32, b: f32) -> f32 { return select(max(a, b), a + b, mpcd_isnan(a) || mpcd_isnan(b)); }
fn mpcd_clamp(x: f32, lo: f32, hi: f32) -> f32 { return mpcd_min(mpcd_max(x, lo), hi); }

// mathjs truthiness: nonzero and not NaN.
fn mpcd_truthy(x: f32) -> bool { return x != 0.0f && !mpcd_isnan(x); }
fn mpcd_bool(b: bool) -> f32 { return select(0.0f, 1.0f, b); }

fn mpcd_sqrt(x: f32) -> f32 { return select(sqrt(x), mpcd_nan(), x < 0.0f); }
fn mpcd_log(x: f32) -> f32 {
  if (x < 0.0f) { return mpcd_nan(); }
  if (x == 0.0f) { return -mpcd_inf(); }
  return log(x);
}
fn mpcd_log2(x: f32) -> f32 { return select(log2(x), mpcd_log(x), x <= 0.0f); }
fn mpcd_log10(x: f32) -> f32 { return mpcd_log(x) * ${L(1 / Math.LN10)}; }
// atan on [-1, 1]: two half-angle steps atan(t) = 2 atan(t / (1 + sqrt(1 + t^2))) bring |t|
// below tan(pi/16), where the Taylor series to t^15 is exact in float32. (Builtin atan and
// asin on some drivers are off by 1e-6 and 1e-4.)
fn mpcd_atan_unit(t: f32) -> f32 {
  let t1 = t / (1.0f + sqrt(1.0f + t * t));
  let t2 = t1 / (1.0f + sqrt(1.0f + t1 * t1));
  let z = t2 * t2;
  var p = ${L(-1 / 15)};
  p = ${inv(13)} + z * p;
  p = ${L(-1 / 11)} + z * p;
  p = ${inv(9)} + z * p;
  p = ${L(-1 / 7)} + z * p;
  p = ${inv(5)} + z * p;
  p = ${L(-1 / 3)} + z * p;
  p = 1.0f + z * p;
  return 4.0f * (t2 * p);
}
fn mpcd_atan(x: f32) -> f32 {
  if (abs(x) <= 1.0f) { return mpcd_atan_unit(x); }
  return select(${L(-Math.PI / 2)}, ${L(Math.PI / 2)}, x > 0.0f) - mpcd_atan_unit(1.0f / x);
}
fn mpcd_atan2(y: f32, x: f32) -> f32 {
  if (x == 0.0f && y == 0.0f) { return 0.0f; }
  if (abs(y) <= abs(x)) {
    let a = mpcd_atan_unit(y / x);
    return select(a, a + select(${L(-Math.PI)}, ${L(Math.PI)}, y >= 0.0f), x < 0.0f);
  }
  return select(${L(-Math.PI / 2)}, ${L(Math.PI / 2)}, y > 0.0f) - mpcd_atan_unit(x / y);
}
fn mpcd_asin(x: f32) -> f32 {
  if (abs(x) > 1.0f) { return mpcd_nan(); }
  return mpcd_atan2(x, sqrt((1.0f - x) * (1.0f + x)));
}
fn mpcd_acos(x: f32) -> f32 {
  if (abs(x) > 1.0f) { return mpcd_nan(); }
  return mpcd_atan2(sqrt((1.0f - x) * (1.0f + x)), x);
}
// tanh through exp overflows to inf/inf; it is +-1 in float32 beyond |x| = 10.
fn mpcd_tanh(x: f32) -> f32 { return select(tanh(x), sign(x), abs(x) > 10.0f); }
fn mpcd_cbrt(x: f32) -> f32 {
  if (x == 0.0f || mpcd_isinf(x) || mpcd_isnan(x)) { return x; }
  let y = sign(x) * exp2(log2(abs(x)) * ${inv(3)});
  return y - (y * y * y - x) / (3.0f * y * y); // one Newton step: exact cubes come out exact
}
// Math.round of mathjs: halves away from zero.
fn mpcd_round(x: f32) -> f32 {
  let t = trunc(x);
  return select(t, t + sign(x), abs(x - t) >= 0.5f);
}
// mathjs mod: floored, the divisor's sign, x mod 0 = x.
fn mpcd_mod(x: f32, y: f32) -> f32 { return select(x - y * floor(x / y), x, y == 0.0f); }
// x ** n for an integer n written in the expression: repeated squaring, negative bases fine.
fn mpcd_powi(x: f32, n: i32) -> f32 {
  var base = x;
  var e = abs(n);
  var r = 1.0f;
  loop {
    if ((e & 1) != 0) { r = r * base; }
    e = e >> 1u;
    if (e == 0) { break; }
    base = base * base;
  }
  return select(r, 1.0f / r, n < 0);
}
// x ** y in general, with JavaScript's answers for y = 0, NaN, zero and negative bases.
fn mpcd_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0f) { return 1.0f; }
  if (mpcd_isnan(x) || mpcd_isnan(y)) { return mpcd_nan(); }
  let integral = floor(y) == y;
  let odd = integral && floor(y * 0.5f) != y * 0.5f;
  if (x == 0.0f) { return select(0.0f, mpcd_inf(), y < 0.0f); }
  let r = exp2(y * log2(abs(x)));
  if (x > 0.0f) { return r; }
  if (!integral) { return mpcd_nan(); }
  return select(r, -r, odd);
}
// Math.hypot of two, scaled so float32 squares cannot overflow.
fn mpcd_hypot(a: f32, b: f32) -> f32 {
  if (mpcd_isinf(a) || mpcd_isinf(b)) { return mpcd_inf(); }
  if (mpcd_isnan(a) || mpcd_isnan(b)) { return mpcd_nan(); }
  let m = max(abs(a), abs(b));
  if (m == 0.0f) { return 0.0f; }
  let x = a / m;
  let y = b / m;
  return m * sqrt(x * x + y * y);
}
fn mpcd_smoothabs(x: f32, eps: f32) -> f32 { return mpcd_sqrt(x * x + eps * eps) - eps; }
`;
