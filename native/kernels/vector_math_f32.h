/*
 * Single-precision counterparts of vector_math.h for the analytic dynamics' fast path: twice the
 * lanes per vector and no rounding steps, at the price of float32 arithmetic inside a step (a few
 * ulps from the TypeScript, which computes in double between its float32 stores).
 */
#ifndef MPCD_VECTOR_MATH_F32_H
#define MPCD_VECTOR_MATH_F32_H

#include "vector_math.h"

#if defined(__AVX512F__)
#define VS_LANES 16
#elif defined(__AVX__)
#define VS_LANES 8
#else
#define VS_LANES 4
#endif

typedef float vs __attribute__((vector_size(VS_LANES * sizeof(float))));
/* Lane masks from comparisons of vs, and raw float bits. */
typedef int32_t vsi __attribute__((vector_size(VS_LANES * sizeof(int32_t))));

VM_INLINE vs vs_splat(float s) { return s - (vs){0}; }

VM_INLINE vs vs_load(const float *p) {
  vs v;
  memcpy(&v, p, sizeof v);
  return v;
}

VM_INLINE void vs_store(float *p, vs v) { memcpy(p, &v, sizeof v); }

VM_INLINE vs vs_select(vsi m, vs a, vs b) { return (vs)(((vsi)a & m) | ((vsi)b & ~m)); }

VM_INLINE vs vs_abs(vs x) { return (vs)((vsi)x & 0x7fffffff); }

VM_INLINE bool vs_any(vsi m) {
#if defined(__AVX512F__)
  return _mm512_test_epi32_mask((__m512i)m, (__m512i)m) != 0;
#else
  int32_t any = 0;
  for (int i = 0; i < VS_LANES; i++) any |= m[i];
  return any != 0;
#endif
}

/* 1 / d to within an ulp of a float: the hardware estimate and one Newton step where there is one. */
VM_INLINE vs vs_recip(vs d) {
#if defined(__AVX512F__)
  vs r = (vs)_mm512_rcp14_ps((__m512)d); /* relative error < 2^-14 */
  return r + r * (1.0f - d * r);          /* < 2^-27 */
#else
  return 1.0f / d;
#endif
}

/*
 * pi/2 in four parts of at most 12 significant bits (the last a float): j * part is exact for
 * |j| < 2^12 with or without FMA. Past that |x| lanes take the double-precision path.
 */
#define VS_PIO2_1 0x1.92p+0f
#define VS_PIO2_2 0x1.fb4p-12f
#define VS_PIO2_3 0x1.444p-24f
#define VS_PIO2_4 0x1.68c234p-39f
#define VS_TRIG_REDUCE_LIMIT 0x1p12f

/*
 * sin(x) and cos(x) to about an ulp of a float for |x| <= VS_TRIG_REDUCE_LIMIT (and NaN): x =
 * j * pi/2 + r, Taylor series of sin r to r^9 and of cos r to r^10 (truncation below 2e-9 on
 * |r| <= pi/4), then the quadrant swaps and negates them.
 */
VM_INLINE void vs_sincos_reduced(vs x, vs *sin_out, vs *cos_out) {
  vs t = x * 0x1.45f306p-1f + 0x1.8p23f; /* 2/pi; 1.5 * 2^23 rounds to an integer in the low bits */
  vs j = t - 0x1.8p23f;
  vsi q = (vsi)t;
  vs r = x - j * VS_PIO2_1;
  r = r - j * VS_PIO2_2;
  r = r - j * VS_PIO2_3;
  r = r - j * VS_PIO2_4;
  vs z = r * r;
  vs s = vs_splat(1.0f / 362880.0f); /* 1/9! */
  s = s * z - 1.0f / 5040.0f;
  s = s * z + 1.0f / 120.0f;
  s = s * z - 1.0f / 6.0f;
  s = r + (r * z) * s;
  s = (vs)(((vsi)s & 0x7fffffff) | ((vsi)r & (int32_t)0x80000000)); /* the sign of r: sin(-0) = -0 */
  vs c = vs_splat(-1.0f / 3628800.0f); /* -1/10! */
  c = c * z + 1.0f / 40320.0f;
  c = c * z - 1.0f / 720.0f;
  c = c * z + 1.0f / 24.0f;
  c = c * z - 0.5f;
  c = c * z + 1.0f;
  vsi swap = (q & 1) != 0;
  vs sx = vs_select(swap, c, s);
  vs cx = vs_select(swap, s, c);
  *sin_out = (vs)((vsi)sx ^ ((q & 2) << 30));
  *cos_out = (vs)((vsi)cx ^ (((q + 1) & 2) << 30));
}

/* The lanes of x where huge is set, in double by the C library (rare, so out of line). */
static __attribute__((noinline, cold)) void vs_sincos_huge_lanes(const vs *x, const vsi *huge, vs *sin_out, vs *cos_out) {
  for (int i = 0; i < VS_LANES; i++) {
    if ((*huge)[i]) {
      (*sin_out)[i] = (float)sin((double)(*x)[i]);
      (*cos_out)[i] = (float)cos((double)(*x)[i]);
    }
  }
}

/* sin(x) and cos(x) for every x; NaN and +-Inf give NaN. */
VM_INLINE void vs_sincos(vs x, vs *sin_out, vs *cos_out) {
  vs s, c;
  vs_sincos_reduced(x, &s, &c);
  vsi huge = vs_abs(x) > VS_TRIG_REDUCE_LIMIT; /* false for NaN, which stays NaN above */
  if (__builtin_expect(vs_any(huge), 0)) vs_sincos_huge_lanes(&x, &huge, &s, &c);
  *sin_out = s;
  *cos_out = c;
}

#endif /* MPCD_VECTOR_MATH_F32_H */
