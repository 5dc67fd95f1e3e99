/*
 * Transposes of 16 rows of n floats ([16, n], row-major) to one 16-float column per field and
 * back: for n = 2 and 4 with vector shuffles where the compiler has __builtin_shufflevector,
 * for any other n (and without it) element by element.
 */
#ifndef MPCD_ROW_TRANSPOSE_H
#define MPCD_ROW_TRANSPOSE_H

#include <string.h>

#include "vector_math.h"

#define TRANSPOSE_ROWS 16

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define HAVE_SHUFFLEVECTOR 1
#endif

typedef float vf16 __attribute__((vector_size(16 * sizeof(float))));

VM_INLINE vf16 vf16_load(const float *p) {
  vf16 v;
  memcpy(&v, p, sizeof v);
  return v;
}

VM_INLINE void vf16_store(float *p, vf16 v) { memcpy(p, &v, sizeof v); }

/* rows [16, 4] at p -> cols[j * stride + k] = field j of row k. */
VM_INLINE void rows4_to_columns(const float *p, float *cols, size_t stride) {
#if defined(HAVE_SHUFFLEVECTOR)
  vf16 v0 = vf16_load(p), v1 = vf16_load(p + 16), v2 = vf16_load(p + 32), v3 = vf16_load(p + 48);
  /* fields 0 and 1 (a) and 2 and 3 (b) of rows 0-7 (01) and 8-15 (23) */
  vf16 a01 = __builtin_shufflevector(v0, v1, 0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
  vf16 b01 = __builtin_shufflevector(v0, v1, 2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
  vf16 a23 = __builtin_shufflevector(v2, v3, 0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
  vf16 b23 = __builtin_shufflevector(v2, v3, 2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
  vf16_store(cols + 0 * stride, __builtin_shufflevector(a01, a23, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23));
  vf16_store(cols + 1 * stride, __builtin_shufflevector(a01, a23, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
  vf16_store(cols + 2 * stride, __builtin_shufflevector(b01, b23, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23));
  vf16_store(cols + 3 * stride, __builtin_shufflevector(b01, b23, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
#else
  for (int j = 0; j < 4; j++)
    for (int k = 0; k < TRANSPOSE_ROWS; k++) cols[j * stride + k] = p[k * 4 + j];
#endif
}

/* The inverse of rows4_to_columns. */
VM_INLINE void columns_to_rows4(const float *cols, size_t stride, float *p) {
#if defined(HAVE_SHUFFLEVECTOR)
  vf16 s0 = vf16_load(cols + 0 * stride), s1 = vf16_load(cols + 1 * stride), s2 = vf16_load(cols + 2 * stride), s3 = vf16_load(cols + 3 * stride);
  vf16 a01 = __builtin_shufflevector(s0, s1, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  vf16 a23 = __builtin_shufflevector(s0, s1, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  vf16 b01 = __builtin_shufflevector(s2, s3, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  vf16 b23 = __builtin_shufflevector(s2, s3, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  vf16_store(p, __builtin_shufflevector(a01, b01, 0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27));
  vf16_store(p + 16, __builtin_shufflevector(a01, b01, 4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31));
  vf16_store(p + 32, __builtin_shufflevector(a23, b23, 0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27));
  vf16_store(p + 48, __builtin_shufflevector(a23, b23, 4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31));
#else
  for (int j = 0; j < 4; j++)
    for (int k = 0; k < TRANSPOSE_ROWS; k++) p[k * 4 + j] = cols[j * stride + k];
#endif
}

VM_INLINE void rows2_to_columns(const float *p, float *cols, size_t stride) {
#if defined(HAVE_SHUFFLEVECTOR)
  vf16 v0 = vf16_load(p), v1 = vf16_load(p + 16);
  vf16_store(cols + 0 * stride, __builtin_shufflevector(v0, v1, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
  vf16_store(cols + 1 * stride, __builtin_shufflevector(v0, v1, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31));
#else
  for (int j = 0; j < 2; j++)
    for (int k = 0; k < TRANSPOSE_ROWS; k++) cols[j * stride + k] = p[k * 2 + j];
#endif
}

VM_INLINE void columns_to_rows2(const float *cols, size_t stride, float *p) {
#if defined(HAVE_SHUFFLEVECTOR)
  vf16 s0 = vf16_load(cols + 0 * stride), s1 = vf16_load(cols + 1 * stride);
  vf16_store(p, __builtin_shufflevector(s0, s1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
  vf16_store(p + 16, __builtin_shufflevector(s0, s1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
#else
  for (int k = 0; k < TRANSPOSE_ROWS; k++) p[k * 2] = cols[0 * stride + k], p[k * 2 + 1] = cols[1 * stride + k];
#endif
}

/* rows [16, n] at p -> cols[j * stride + k] = field j of row k, for any n >= 1. */
VM_INLINE void rows_to_columns(const float *p, int n, float *cols, size_t stride) {
  if (n == 4) {
    rows4_to_columns(p, cols, stride);
  } else if (n == 2) {
    rows2_to_columns(p, cols, stride);
  } else {
    for (int j = 0; j < n; j++)
      for (int k = 0; k < TRANSPOSE_ROWS; k++) cols[j * stride + k] = p[k * n + j];
  }
}

/* The inverse of rows_to_columns. */
VM_INLINE void columns_to_rows(const float *cols, size_t stride, int n, float *p) {
  if (n == 4) {
    columns_to_rows4(cols, stride, p);
  } else if (n == 2) {
    columns_to_rows2(cols, stride, p);
  } else {
    for (int j = 0; j < n; j++)
      for (int k = 0; k < TRANSPOSE_ROWS; k++) p[k * n + j] = cols[j * stride + k];
  }
}

#endif /* MPCD_ROW_TRANSPOSE_H */
