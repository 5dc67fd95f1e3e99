/**
 * Unit-quaternion arithmetic on flat arrays, for ball and free joints: quaternions are (w, x, y, z)
 * at an offset of a Float32Array or Float64Array, as MuJoCo stores them in qpos. Nothing here
 * allocates: these run per sample inside the dynamics and the integrators.
 */

type Vec = { [i: number]: number; readonly length: number };

/** Scales the quaternion at q[o..o+4] to unit length in place; a zero one becomes the identity. */
export function normalizeQuat(q: Vec, o: number): void {
  const w = q[o]!;
  const x = q[o + 1]!;
  const y = q[o + 2]!;
  const z = q[o + 3]!;
  const n = Math.sqrt(w * w + x * x + y * y + z * z);
  if (!(n > 0)) {
    q[o] = 1; q[o + 1] = 0; q[o + 2] = 0; q[o + 3] = 0;
    return;
  }
  const s = 1 / n;
  q[o] = w * s; q[o + 1] = x * s; q[o + 2] = y * s; q[o + 3] = z * s;
}

/**
 * out[oo..oo+9] = the row-major rotation matrix of the quaternion at q[o..o+4], normalized first
 * (as MuJoCo's kinematics normalize qpos quaternions), so an integrator's intermediate, slightly
 * non-unit quaternion still gives a rotation.
 */
export function quatToMatrixAt(q: ArrayLike<number>, o: number, out: Float64Array, oo: number): void {
  let w = q[o]!;
  let x = q[o + 1]!;
  let y = q[o + 2]!;
  let z = q[o + 3]!;
  const n = Math.sqrt(w * w + x * x + y * y + z * z);
  if (n > 0) {
    w /= n; x /= n; y /= n; z /= n;
  } else {
    w = 1; x = 0; y = 0; z = 0;
  }
  out[oo] = 1 - 2 * (y * y + z * z); out[oo + 1] = 2 * (x * y - w * z); out[oo + 2] = 2 * (x * z + w * y);
  out[oo + 3] = 2 * (x * y + w * z); out[oo + 4] = 1 - 2 * (x * x + z * z); out[oo + 5] = 2 * (y * z - w * x);
  out[oo + 6] = 2 * (x * z - w * y); out[oo + 7] = 2 * (y * z + w * x); out[oo + 8] = 1 - 2 * (x * x + y * y);
}

/**
 * The quaternion's time derivative for angular velocity w in its own (rotated, body) frame:
 * qdot = 1/2 q (x) (0, w), written to out[oo..oo+4]. The quaternion is used as it is (not
 * normalized): this is the rate of the state the integrator holds.
 */
export function quatRate(q: ArrayLike<number>, o: number, wx: number, wy: number, wz: number, out: Vec, oo: number): void {
  const qw = q[o]!;
  const qx = q[o + 1]!;
  const qy = q[o + 2]!;
  const qz = q[o + 3]!;
  out[oo] = 0.5 * (-qx * wx - qy * wy - qz * wz);
  out[oo + 1] = 0.5 * (qw * wx + qy * wz - qz * wy);
  out[oo + 2] = 0.5 * (qw * wy - qx * wz + qz * wx);
  out[oo + 3] = 0.5 * (qw * wz + qx * wy - qy * wx);
}

/**
 * Rotates the quaternion at q[o..o+4] in place by body-frame angular velocity w held for h seconds:
 * q <- normalize(q (x) exp(w h / 2)), the exponential map MuJoCo's mj_integratePos uses, exact
 * for a constant w (no drift off the unit sphere beyond rounding, which the normalization removes).
 */
export function integrateQuat(q: Vec, o: number, wx: number, wy: number, wz: number, h: number): void {
  const speed = Math.sqrt(wx * wx + wy * wy + wz * wz);
  const angle = speed * h;
  if (angle === 0) {
    normalizeQuat(q, o);
    return;
  }
  const half = 0.5 * angle;
  const c = Math.cos(half);
  const s = Math.sin(half) / speed; // times w gives the rotation's axis * sin(half)
  const dx = wx * s;
  const dy = wy * s;
  const dz = wz * s;
  const qw = q[o]!;
  const qx = q[o + 1]!;
  const qy = q[o + 2]!;
  const qz = q[o + 3]!;
  q[o] = qw * c - qx * dx - qy * dy - qz * dz;
  q[o + 1] = qw * dx + qx * c + qy * dz - qz * dy;
  q[o + 2] = qw * dy - qx * dz + qy * c + qz * dx;
  q[o + 3] = qw * dz + qx * dy - qy * dx + qz * c;
  normalizeQuat(q, o);
}
