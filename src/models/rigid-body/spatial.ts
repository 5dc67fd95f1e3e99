/**
 * Spatial-vector arithmetic of the articulated-body algorithm, on flat Float64Arrays at offsets:
 * motion vectors [angular; linear] and force vectors [moment; force], both about the world
 * origin, and 6x6 spatial inertias row-major. Nothing allocates.
 */

/** out = a * b^T (3x3 row-major). */
export function mul33T(a: Float64Array, ao: number, b: Float64Array, bo: number, out: Float64Array, oo: number): void {
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) out[oo + 3 * r + c] = a[ao + 3 * r]! * b[bo + 3 * c]! + a[ao + 3 * r + 1]! * b[bo + 3 * c + 1]! + a[ao + 3 * r + 2]! * b[bo + 3 * c + 2]!;
  }
}

/** The 6x6 spatial inertia about the origin of mass m at centre c with rotational inertia Ic about c. */
export function spatialInertia(m: number, cx: number, cy: number, cz: number, Ic: Float64Array, out: Float64Array, o: number): void {
  // [[Ic + m (cx)(cx)^T, m cx], [m cx^T, m 1]], with (cx)(cx)^T = |c|^2 1 - c c^T.
  const c2 = cx * cx + cy * cy + cz * cz;
  out[o] = Ic[0]! + m * (c2 - cx * cx); out[o + 1] = Ic[1]! - m * cx * cy; out[o + 2] = Ic[2]! - m * cx * cz;
  out[o + 6] = Ic[3]! - m * cx * cy; out[o + 7] = Ic[4]! + m * (c2 - cy * cy); out[o + 8] = Ic[5]! - m * cy * cz;
  out[o + 12] = Ic[6]! - m * cx * cz; out[o + 13] = Ic[7]! - m * cy * cz; out[o + 14] = Ic[8]! + m * (c2 - cz * cz);
  // Upper right m [c]x, lower left its transpose.
  out[o + 3] = 0; out[o + 4] = -m * cz; out[o + 5] = m * cy;
  out[o + 9] = m * cz; out[o + 10] = 0; out[o + 11] = -m * cx;
  out[o + 15] = -m * cy; out[o + 16] = m * cx; out[o + 17] = 0;
  out[o + 18] = 0; out[o + 19] = m * cz; out[o + 20] = -m * cy;
  out[o + 24] = -m * cz; out[o + 25] = 0; out[o + 26] = m * cx;
  out[o + 30] = m * cy; out[o + 31] = -m * cx; out[o + 32] = 0;
  out[o + 21] = m; out[o + 22] = 0; out[o + 23] = 0;
  out[o + 27] = 0; out[o + 28] = m; out[o + 29] = 0;
  out[o + 33] = 0; out[o + 34] = 0; out[o + 35] = m;
}

export function matVec6(M: Float64Array, mo: number, x: Float64Array, xo: number, out: Float64Array, oo: number): void {
  for (let r = 0; r < 6; r++) {
    const row = mo + 6 * r;
    out[oo + r] = M[row]! * x[xo]! + M[row + 1]! * x[xo + 1]! + M[row + 2]! * x[xo + 2]! + M[row + 3]! * x[xo + 3]! + M[row + 4]! * x[xo + 4]! + M[row + 5]! * x[xo + 5]!;
  }
}

/** out = v x m for motion vectors v = [w; v0], m = [mw; mv]: [w x mw; v0 x mw + w x mv]. */
export function crossMotion(V: Float64Array, vo: number, mwx: number, mwy: number, mwz: number, mvx: number, mvy: number, mvz: number, out: Float64Array, oo: number): void {
  const wx = V[vo]!;
  const wy = V[vo + 1]!;
  const wz = V[vo + 2]!;
  const vx = V[vo + 3]!;
  const vy = V[vo + 4]!;
  const vz = V[vo + 5]!;
  out[oo] = wy * mwz - wz * mwy;
  out[oo + 1] = wz * mwx - wx * mwz;
  out[oo + 2] = wx * mwy - wy * mwx;
  out[oo + 3] = vy * mwz - vz * mwy + wy * mvz - wz * mvy;
  out[oo + 4] = vz * mwx - vx * mwz + wz * mvx - wx * mvz;
  out[oo + 5] = vx * mwy - vy * mwx + wx * mvy - wy * mvx;
}

/** out = v x* f for motion v = [w; v0], force f = [n; f0]: [w x n + v0 x f0; w x f0]. */
export function crossForce(V: Float64Array, vo: number, f: Float64Array, out: Float64Array, oo: number): void {
  const wx = V[vo]!;
  const wy = V[vo + 1]!;
  const wz = V[vo + 2]!;
  const vx = V[vo + 3]!;
  const vy = V[vo + 4]!;
  const vz = V[vo + 5]!;
  const nx = f[0]!;
  const ny = f[1]!;
  const nz = f[2]!;
  const fx = f[3]!;
  const fy = f[4]!;
  const fz = f[5]!;
  out[oo] = wy * nz - wz * ny + vy * fz - vz * fy;
  out[oo + 1] = wz * nx - wx * nz + vz * fx - vx * fz;
  out[oo + 2] = wx * ny - wy * nx + vx * fy - vy * fx;
  out[oo + 3] = wy * fz - wz * fy;
  out[oo + 4] = wz * fx - wx * fz;
  out[oo + 5] = wx * fy - wy * fx;
}
