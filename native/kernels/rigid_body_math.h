/*
 * tanh in both precisions for the rigid-body kernel's smoothed dry friction, on the vectors of
 * vector_math.h (double) and vector_math_f32.h (float), and the float exp it needs. Portable:
 * GCC/Clang vector extensions only (the scalar fallback is the same code on 2- or 4-lane vectors).
 *
 * tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2|x|), where that loses little to cancellation
 * (|x| >= the small limit: at most a factor 3 on an ulp); below it the odd Taylor series
 * (truncation below half an ulp there). NaN gives NaN, +-Inf gives +-1.
 */
#ifndef MPCD_RIGID_BODY_MATH_H
#define MPCD_RIGID_BODY_MATH_H

#include "vector_math.h"
#include "vector_math_f32.h"

/*
 * e^x in float for x in [-87, 88] (clamped there; NaN stays NaN): x = n ln2 + r, |r| <= ln2 / 2,
 * Taylor series of e^r to r^7 (truncation below 2e-8 relative), times 2^n from the exponent bits.
 */
VM_INLINE vs vs_exp(vs x) {
  vs xc = vs_select(x < -87.0f, vs_splat(-87.0f), x);
  xc = vs_select(xc > 88.0f, vs_splat(88.0f), xc);
  vs t = xc * 0x1.715476p+0f + 0x1.8p23f; /* log2 e; the magic rounds to an integer in the low bits */
  vs n = t - 0x1.8p23f;
  vsi k = (vsi)t - (vsi)vs_splat(0x1.8p23f);
  vs r = xc - n * 0x1.62e4p-1f; /* ln 2 in two parts: n * hi is exact for |n| < 2^8 */
  r = r - n * 0x1.7f7d1cp-20f;
  vs p = vs_splat(1.0f / 5040.0f);
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  return p * (vs)((k + 127) << 23);
}

/* Odd Taylor coefficients of tanh: x - x^3/3 + 2x^5/15 - 17x^7/315 + ... */
#define RB_TANH_C3 (-1.0 / 3.0)
#define RB_TANH_C5 (2.0 / 15.0)
#define RB_TANH_C7 (-17.0 / 315.0)
#define RB_TANH_C9 (62.0 / 2835.0)
#define RB_TANH_C11 (-1382.0 / 155925.0)
#define RB_TANH_C13 (21844.0 / 6081075.0)
#define RB_TANH_C15 (-929569.0 / 638512875.0)
#define RB_TANH_C17 (6404582.0 / 10854718875.0)
#define RB_TANH_C19 (-443861162.0 / 1856156927625.0)

/* Below 0.25 the series to x^11 (the next term is below 2e-9 relative). */
VM_INLINE vs vs_tanh(vs x) {
  vs a = vs_abs(x);
  vs e = vs_exp(-2.0f * a);
  vs big = (1.0f - e) / (1.0f + e);
  vs z = a * a;
  vs p = vs_splat((float)RB_TANH_C11);
  p = p * z + (float)RB_TANH_C9;
  p = p * z + (float)RB_TANH_C7;
  p = p * z + (float)RB_TANH_C5;
  p = p * z + (float)RB_TANH_C3;
  vs small = a + (a * z) * p;
  vs r = vs_select(a < 0.25f, small, big);
  return (vs)(((vsi)r & 0x7fffffff) | ((vsi)x & (int32_t)0x80000000));
}

/* Below 0.125 the series to x^19 (the next term is below 1e-19 relative). */
VM_INLINE vd vd_tanh(vd x) {
  vd a = vd_abs(x);
  vd e = vd_exp(-2.0 * a);
  vd big = (1.0 - e) / (1.0 + e);
  vd z = a * a;
  vd p = vd_splat(RB_TANH_C19);
  p = p * z + RB_TANH_C17;
  p = p * z + RB_TANH_C15;
  p = p * z + RB_TANH_C13;
  p = p * z + RB_TANH_C11;
  p = p * z + RB_TANH_C9;
  p = p * z + RB_TANH_C7;
  p = p * z + RB_TANH_C5;
  p = p * z + RB_TANH_C3;
  vd small = a + (a * z) * p;
  return vd_copysign(vd_select(a < 0.125, small, big), x);
}

#endif /* MPCD_RIGID_BODY_MATH_H */
