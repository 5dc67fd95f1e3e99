/*
 * Elementwise double-precision math on the widest vectors the build machine has (GCC/Clang vector
 * extensions: 8 lanes with AVX-512, 4 with AVX, 2 otherwise). Used by the analytic dynamics and
 * the cost-expression kernels, which compute in double as JavaScript does, so that their float32
 * results match the TypeScript ones.
 *
 * The transcendental functions are written here (range reduction plus Taylor polynomials long
 * enough for double precision) so that they vectorize; each is accurate to about an ulp and gives
 * NaN for NaN, and for +-Inf where the function has no limit, so a diverged rollout stays NaN.
 * Nothing here allocates or keeps state.
 */
#ifndef MPCD_VECTOR_MATH_H
#define MPCD_VECTOR_MATH_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__AVX512F__) || defined(__AVX__)
#include <immintrin.h>
#endif

/* Native widths only: GCC scalarizes comparisons on vectors wider than the machine's. */
#if defined(__AVX512F__)
#define VM_LANES 8
#elif defined(__AVX__)
#define VM_LANES 4
#else
#define VM_LANES 2
#endif

typedef double vd __attribute__((vector_size(VM_LANES * sizeof(double))));
typedef float vf __attribute__((vector_size(VM_LANES * sizeof(float))));
/* Lane masks from comparisons of vd: -1 where true, 0 where false. Also raw double bits. */
typedef int64_t vl __attribute__((vector_size(VM_LANES * sizeof(int64_t))));

#define VM_INLINE static inline __attribute__((always_inline))

#define VM_SIGN_BIT ((int64_t)0x8000000000000000LL)
#define VM_ABS_BITS ((int64_t)0x7fffffffffffffffLL)

/* s in every lane; s - 0 is exactly s (signed zeros and NaN included). */
VM_INLINE vd vd_splat(double s) { return s - (vd){0}; }

VM_INLINE vd vd_load(const double *p) {
  vd v;
  memcpy(&v, p, sizeof v);
  return v;
}

VM_INLINE void vd_store(double *p, vd v) { memcpy(p, &v, sizeof v); }

VM_INLINE vf vf_load(const float *p) {
  vf v;
  memcpy(&v, p, sizeof v);
  return v;
}

VM_INLINE void vf_store(float *p, vf v) { memcpy(p, &v, sizeof v); }

/* float <-> double lane by lane (one instruction each; GCC's generic conversion takes several). */
VM_INLINE vd vd_from_f32(vf v) {
#if defined(__AVX512F__)
  return (vd)_mm512_cvtps_pd((__m256)v);
#elif defined(__AVX__)
  return (vd)_mm256_cvtps_pd((__m128)v);
#else
  return __builtin_convertvector(v, vd);
#endif
}

VM_INLINE vf vf_from_f64(vd v) {
#if defined(__AVX512F__)
  return (vf)_mm512_cvtpd_ps((__m512d)v);
#elif defined(__AVX__)
  return (vf)_mm256_cvtpd_ps((__m256d)v);
#else
  return __builtin_convertvector(v, vf);
#endif
}

/* What storing into a Float32Array and reading back gives: round to nearest float32. */
VM_INLINE vd vd_round_f32(vd v) { return vd_from_f32(vf_from_f64(v)); }

/* m ? a : b per lane, m from a comparison. */
VM_INLINE vd vd_select(vl m, vd a, vd b) { return (vd)(((vl)a & m) | ((vl)b & ~m)); }

VM_INLINE vd vd_abs(vd x) { return (vd)((vl)x & VM_ABS_BITS); }

/* |mag| with the sign of sgn. */
VM_INLINE vd vd_copysign(vd mag, vd sgn) { return (vd)(((vl)mag & VM_ABS_BITS) | ((vl)sgn & VM_SIGN_BIT)); }

VM_INLINE vl vd_isnan(vd x) { return x != x; }

/* 1.0 where m, else 0.0. */
VM_INLINE vd vd_from_mask(vl m) { return (vd)(m & (vl)vd_splat(1.0)); }

/* Whether any lane of m is set. */
VM_INLINE bool vm_any(vl m) {
#if defined(__AVX512F__)
  return _mm512_test_epi64_mask((__m512i)m, (__m512i)m) != 0;
#else
  int64_t any = 0;
  for (int i = 0; i < VM_LANES; i++) any |= m[i];
  return any != 0;
#endif
}

/*
 * 1 / d to within an ulp: the hardware estimate and two Newton steps where there is one (five
 * FMA-port operations, where a 512-bit division blocks its unit for about sixteen cycles), else a
 * division. For finite nonzero d (NaN stays NaN).
 */
VM_INLINE vd vd_recip(vd d) {
#if defined(__AVX512F__)
  vd r = (vd)_mm512_rcp14_pd((__m512d)d); /* relative error < 2^-14 */
  r = r + r * (1.0 - d * r);               /* < 2^-28 */
  return r + r * (1.0 - d * r);            /* < 2^-53 */
#else
  return 1.0 / d;
#endif
}

/*
 * a * b rounded on its own: never fused into a following add (the build contracts a*b+c into
 * FMA where it can), for the few formulas that must round as JavaScript does.
 */
VM_INLINE vd vd_mul_rounded(vd a, vd b) {
  vd p = a * b;
  __asm__("" : "+m"(p));
  return p;
}

/* 2^52 + 2^51: adding it to |t| < 2^51 rounds t to an integer kept in the low mantissa bits. */
#define VM_ROUND_MAGIC 0x1.8p52

/* Round to nearest integer, ties to even; |x| >= 2^52, NaN and Inf are returned as they are. */
VM_INLINE vd vd_rint(vd x) {
  const vd big = vd_splat(0x1p52);
  vd ax = vd_abs(x);
  vd r = vd_copysign((ax + big) - big, x);
  return vd_select(ax < big, r, x);
}

/* Math.floor and Math.ceil, signed zeros included (a zero result has the sign of x). */
VM_INLINE vd vd_floor(vd x) {
  vd r = vd_rint(x);
  return vd_copysign(vd_select(r > x, r - 1.0, r), x);
}

VM_INLINE vd vd_ceil(vd x) {
  vd r = vd_rint(x);
  return vd_copysign(vd_select(r < x, r + 1.0, r), x);
}

VM_INLINE vd vd_sqrt(vd x) {
#if defined(__AVX512F__)
  return (vd)_mm512_sqrt_pd((__m512d)x);
#elif defined(__AVX__)
  return (vd)_mm256_sqrt_pd((__m256d)x);
#else
  for (int i = 0; i < VM_LANES; i++) x[i] = __builtin_sqrt(x[i]);
  return x;
#endif
}

/* ---- sin and cos ---- */

/*
 * pi/2 in four parts: the first three have at most 30 significant bits, so j * part is exact
 * for |j| < 2^22 with or without FMA, and x - j * pi/2 loses nothing to cancellation.
 */
#define VM_PIO2_1 0x1.921fb54p+0
#define VM_PIO2_2 0x1.10b46118p-30
#define VM_PIO2_3 0x1.313198ap-61
#define VM_PIO2_4 0x1.701b839a25205p-92
#define VM_TWO_OVER_PI 0x1.45f306dc9c883p-1
/* Beyond this |x| (j >= 2^22) lanes go to the C library's sin and cos, which reduce exactly. */
#define VM_TRIG_REDUCE_LIMIT 0x1p22

/*
 * sin(x) and cos(x) for |x| <= VM_TRIG_REDUCE_LIMIT (and NaN): x = j * pi/2 + r with |r| <= pi/4;
 * Taylor series of sin r up to r^17 and of cos r up to r^16 (truncation below 1e-17 relative on
 * |r| <= pi/4), then the quadrant j mod 4 swaps and negates them.
 */
VM_INLINE void vd_sincos_reduced(vd x, vd *sin_out, vd *cos_out) {
  vd t = x * VM_TWO_OVER_PI + VM_ROUND_MAGIC;
  vd j = t - VM_ROUND_MAGIC;
  vl q = (vl)t; /* j mod 4 in the low bits (two's complement) */
  vd r = x - j * VM_PIO2_1;
  r = r - j * VM_PIO2_2;
  r = r - j * VM_PIO2_3;
  r = r - j * VM_PIO2_4;
  vd z = r * r;

  vd s = vd_splat(1.0 / 355687428096000.0); /* 1/17! */
  s = s * z - 1.0 / 1307674368000.0;        /* 1/15! */
  s = s * z + 1.0 / 6227020800.0;           /* 1/13! */
  s = s * z - 1.0 / 39916800.0;             /* 1/11! */
  s = s * z + 1.0 / 362880.0;               /* 1/9! */
  s = s * z - 1.0 / 5040.0;                 /* 1/7! */
  s = s * z + 1.0 / 120.0;                  /* 1/5! */
  s = s * z - 1.0 / 6.0;                    /* 1/3! */
  s = vd_copysign(r + (r * z) * s, r);      /* sin r has the sign of r; this keeps sin(-0) = -0 */

  vd c = vd_splat(1.0 / 20922789888000.0); /* 1/16! */
  c = c * z - 1.0 / 87178291200.0;         /* 1/14! */
  c = c * z + 1.0 / 479001600.0;           /* 1/12! */
  c = c * z - 1.0 / 3628800.0;             /* 1/10! */
  c = c * z + 1.0 / 40320.0;               /* 1/8! */
  c = c * z - 1.0 / 720.0;                 /* 1/6! */
  c = c * z + 1.0 / 24.0;                  /* 1/4! */
  c = c * z - 0.5;
  c = c * z + 1.0;

  /* Quadrant q: sin x = (sin r, cos r, -sin r, -cos r)[q], cos x = (cos r, -sin r, -cos r, sin r)[q]. */
  vl swap = (q & 1) != 0;
  vd sx = vd_select(swap, c, s);
  vd cx = vd_select(swap, s, c);
  *sin_out = (vd)((vl)sx ^ ((q & 2) << 62));
  *cos_out = (vd)((vl)cx ^ (((q + 1) & 2) << 62));
}

/* sin(x) and cos(x) for every x; NaN and +-Inf give NaN. */
/* The lanes of x where huge is set, by the C library (kept out of line: it is rare and calls out). */
static __attribute__((noinline, cold)) void vd_sincos_huge_lanes(const vd *x, const vl *huge, vd *sin_out, vd *cos_out) {
  for (int i = 0; i < VM_LANES; i++) {
    if ((*huge)[i]) {
      (*sin_out)[i] = sin((*x)[i]);
      (*cos_out)[i] = cos((*x)[i]);
    }
  }
}

VM_INLINE void vd_sincos(vd x, vd *sin_out, vd *cos_out) {
  vd s, c;
  vd_sincos_reduced(x, &s, &c);
  vl huge = vd_abs(x) > VM_TRIG_REDUCE_LIMIT; /* false for NaN, which stays NaN above */
  if (__builtin_expect(vm_any(huge), 0)) vd_sincos_huge_lanes(&x, &huge, &s, &c);
  *sin_out = s;
  *cos_out = c;
}

/* ---- exp and log ---- */

/* ln 2 in two parts: the first has 32 significant bits, so n * part is exact for |n| < 2^21. */
#define VM_LN2_HI 0x1.62e42feep-1
#define VM_LN2_LO 0x1.a39ef35793c76p-33
#define VM_LOG2E 0x1.71547652b82fep+0
#define VM_INV_LN10 0x1.bcb7b1526e50ep-2
#define VM_SQRT2 0x1.6a09e667f3bcdp+0

/* 2^k for integers k in [-1022, 1023], from the exponent bits. */
VM_INLINE vd vd_pow2i(vl k) { return (vd)((k + 1023) << 52); }

/*
 * e^x: x = n ln2 + r with |r| <= ln2 / 2, Taylor series of e^r up to r^13 (truncation below
 * 1e-17 relative), then 2^n applied as two factors so that results from the subnormals up to
 * overflow come out right. exp(+Inf) = +Inf, exp(-Inf) = 0, NaN gives NaN.
 */
VM_INLINE vd vd_exp(vd x) {
  /* Past +-760 the result has long overflowed or underflowed; clamping bounds n (NaN stays). */
  vd xc = vd_select(x > 760.0, vd_splat(760.0), vd_select(x < -760.0, vd_splat(-760.0), x));
  vd t = xc * VM_LOG2E + VM_ROUND_MAGIC;
  vd n = t - VM_ROUND_MAGIC;
  vl k = (vl)t - (vl)vd_splat(VM_ROUND_MAGIC);
  vd r = xc - n * VM_LN2_HI;
  r = r - n * VM_LN2_LO;
  vd p = vd_splat(1.0 / 6227020800.0); /* 1/13! */
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  vl k1 = k >> 1;
  return p * vd_pow2i(k1) * vd_pow2i(k - k1);
}

/*
 * x = 2^e * m with m in [sqrt(1/2), sqrt(2)] (subnormals scaled first): the exponent e and
 * log(m) = 2 atanh(f), f = (m - 1) / (m + 1), |f| <= 0.172, by its series up to f^23. Only for
 * finite x > 0; vd_log and friends patch the other cases.
 */
VM_INLINE void vd_log_parts(vd x, vd *e_out, vd *log_m_out) {
  vl sub = x < 0x1p-1022;
  vd xs = vd_select(sub, x * 0x1p54, x);
  vl bits = (vl)xs;
  vl e = ((bits >> 52) & 0x7ff) - 1023 - (sub & 54);
  vd m = (vd)((bits & 0x000fffffffffffffLL) | 0x3ff0000000000000LL);
  vl high = m > VM_SQRT2;
  m = vd_select(high, m * 0.5, m);
  e = e - high; /* high is -1 where true */
  vd f = (m - 1.0) / (m + 1.0);
  vd s = f * f;
  vd p = vd_splat(1.0 / 23.0);
  p = p * s + 1.0 / 21.0;
  p = p * s + 1.0 / 19.0;
  p = p * s + 1.0 / 17.0;
  p = p * s + 1.0 / 15.0;
  p = p * s + 1.0 / 13.0;
  p = p * s + 1.0 / 11.0;
  p = p * s + 1.0 / 9.0;
  p = p * s + 1.0 / 7.0;
  p = p * s + 1.0 / 5.0;
  p = p * s + 1.0 / 3.0;
  p = p * s + 1.0;
  *e_out = __builtin_convertvector(e, vd);
  *log_m_out = (f + f) * p;
}

/* What every log gives outside the finite positives: NaN for NaN and x < 0, -Inf at 0, +Inf at +Inf. */
VM_INLINE vd vd_log_special(vd x, vd finite_result) {
  vd r = vd_select(x == INFINITY, vd_splat(INFINITY), finite_result);
  r = vd_select(x == 0.0, vd_splat(-INFINITY), r);
  return vd_select((x < 0.0) | vd_isnan(x), vd_splat(NAN), r);
}

VM_INLINE vd vd_log(vd x) {
  vd e, lm;
  vd_log_parts(x, &e, &lm);
  return vd_log_special(x, e * VM_LN2_HI + (e * VM_LN2_LO + lm));
}

/* log2: exact at powers of two (log(m) = 0 there). */
VM_INLINE vd vd_log2(vd x) {
  vd e, lm;
  vd_log_parts(x, &e, &lm);
  return vd_log_special(x, e + lm * VM_LOG2E);
}

VM_INLINE vd vd_log10(vd x) {
  vd e, lm;
  vd_log_parts(x, &e, &lm);
  return vd_log_special(x, (e * VM_LN2_HI + (e * VM_LN2_LO + lm)) * VM_INV_LN10);
}

#endif /* MPCD_VECTOR_MATH_H */
