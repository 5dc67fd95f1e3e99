/**
 * out[oo..] = the inverse of the symmetric positive-definite m x m matrix a[ao..] (row-major, m up
 * to 6: a ball joint's 3x3 or a free joint's 6x6 joint-space inertia D = S^T I^A S + armature),
 * by Cholesky factorization a = L L^T in `work` (at least m * m numbers), then L^-T L^-1.
 * Nothing allocates; `a` is left as it is.
 */
export function invertSpd(a: Float64Array, ao: number, m: number, out: Float64Array, oo: number, work: Float64Array): void {
  // L (lower triangle of work), row-major m x m.
  for (let r = 0; r < m; r++) {
    for (let c = 0; c <= r; c++) {
      let sum = a[ao + m * r + c]!;
      for (let k = 0; k < c; k++) sum -= work[m * r + k]! * work[m * c + k]!;
      work[m * r + c] = r === c ? Math.sqrt(sum) : sum / work[m * c + c]!;
    }
  }
  // L^-1 into the upper triangle's mirror: solve column by column into out, then out = L^-T L^-1.
  for (let c = 0; c < m; c++) {
    // x = L^-1 e_c, written to out's column c (rows >= c are the only nonzero ones).
    for (let r = 0; r < m; r++) {
      if (r < c) {
        out[oo + m * r + c] = 0;
        continue;
      }
      let sum = r === c ? 1 : 0;
      for (let k = c; k < r; k++) sum -= work[m * r + k]! * out[oo + m * k + c]!;
      out[oo + m * r + c] = sum / work[m * r + r]!;
    }
  }
  // inverse = (L^-1)^T L^-1: entry (i, j) = sum_k Linv[k][i] Linv[k][j], k >= max(i, j). Build in
  // work's upper part is not free (L is there), so compute into work first, then copy.
  for (let i = 0; i < m; i++) {
    for (let j = i; j < m; j++) {
      let sum = 0;
      for (let k = j; k < m; k++) sum += out[oo + m * k + i]! * out[oo + m * k + j]!;
      work[m * i + j] = sum;
    }
  }
  for (let i = 0; i < m; i++) {
    for (let j = i; j < m; j++) {
      const v = work[m * i + j]!;
      out[oo + m * i + j] = v;
      out[oo + m * j + i] = v;
    }
  }
}
