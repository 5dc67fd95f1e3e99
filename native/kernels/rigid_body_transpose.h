/*
 * Transposes of 16 rows of any width n ([16, n] row-major) to one 16-float column per field and
 * back, for the rigid-body kernel's blocks (nx = 2 nq and nu are rarely 2 or 4, which
 * row_transpose.h does with vector shuffles, and its element-by-element path is most of an arm's
 * derivative call). Here: 16 x 16 tiles transposed in registers by four rounds of two-source
 * shuffles (__builtin_shufflevector, GCC 12+ and Clang; element by element without it).
 *
 * The row side is read and written 16 floats at a time, so it must have 16 floats of slack past
 * its 16 n: the kernel transposes through a padded copy of the block's rows.
 */
#ifndef MPCD_RIGID_BODY_TRANSPOSE_H
#define MPCD_RIGID_BODY_TRANSPOSE_H

#include <stddef.h>

#include "row_transpose.h"

#define RBT_SLACK 16 /* floats of slack the row side needs past 16 n */

#if defined(HAVE_SHUFFLEVECTOR)

/*
 * One round of the 16 x 16 transpose: rows a = r and b = r + h exchange the h x h blocks off the
 * diagonal, a'[c] = c & h ? b[c - h] : a[c], b'[c] = c & h ? b[c] : a[c + h]. Rounds h = 8, 4,
 * 2, 1 transpose the tile.
 */
#define RBT_A8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define RBT_B8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define RBT_A4 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define RBT_B4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define RBT_A2 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define RBT_B2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define RBT_A1 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define RBT_B1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define RBT_ROUND(h)                                                       \
  for (int r = 0; r < 16; r++) {                                           \
    if (r & (h)) continue;                                                 \
    const vf16 a = t[r], b = t[r + (h)];                                   \
    t[r] = __builtin_shufflevector(a, b, RBT_A##h);                        \
    t[r + (h)] = __builtin_shufflevector(a, b, RBT_B##h);                  \
  }

VM_INLINE void rbt_tile(vf16 *t) {
  RBT_ROUND(8)
  RBT_ROUND(4)
  RBT_ROUND(2)
  RBT_ROUND(1)
}

#endif

/* rows [16, n] at p (RBT_SLACK floats of slack after) -> cols[j * stride + k] = field j of row k. */
static inline void rbt_rows_to_columns(const float *p, int n, float *cols, size_t stride) {
#if defined(HAVE_SHUFFLEVECTOR)
  if (n == 2 || n == 4 || n == 1) {
    rows_to_columns(p, n, cols, stride);
    return;
  }
  for (int c0 = 0; c0 < n; c0 += 16) {
    vf16 t[16];
    for (int k = 0; k < 16; k++) t[k] = vf16_load(p + (size_t)k * (size_t)n + (size_t)c0);
    rbt_tile(t);
    const int w = n - c0 < 16 ? n - c0 : 16;
    for (int j = 0; j < w; j++) vf16_store(cols + (size_t)(c0 + j) * stride, t[j]);
  }
#else
  rows_to_columns(p, n, cols, stride);
#endif
}

/* The inverse: cols -> rows [16, n] at p (RBT_SLACK floats of slack after, overwritten). */
static inline void rbt_columns_to_rows(const float *cols, size_t stride, int n, float *p) {
#if defined(HAVE_SHUFFLEVECTOR)
  if (n == 2 || n == 4 || n == 1) {
    columns_to_rows(cols, stride, n, p);
    return;
  }
  /*
   * Each row's 16-float store of the last tile runs into the next row's first fields: tiles from
   * the last to the first, so the first tile's stores come after and put those right.
   */
  for (int c0 = (n - 1) / 16 * 16; c0 >= 0; c0 -= 16) {
    vf16 t[16];
    const int w = n - c0 < 16 ? n - c0 : 16;
    for (int j = 0; j < 16; j++) t[j] = j < w ? vf16_load(cols + (size_t)(c0 + j) * stride) : (vf16){0};
    rbt_tile(t);
    for (int k = 0; k < 16; k++) vf16_store(p + (size_t)k * (size_t)n + (size_t)c0, t[k]);
  }
#else
  columns_to_rows(cols, stride, n, p);
#endif
}

#endif /* MPCD_RIGID_BODY_TRANSPOSE_H */
