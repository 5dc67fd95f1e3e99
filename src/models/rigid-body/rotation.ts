/** Row-major 3x3 rotation matrix of a unit quaternion (w, x, y, z). */
export function quatToMatrix([w, x, y, z]: readonly number[]): number[] {
  const qw = w!;
  const qx = x!;
  const qy = y!;
  const qz = z!;
  return [
    1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qw * qz), 2 * (qx * qz + qw * qy),
    2 * (qx * qy + qw * qz), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qw * qx),
    2 * (qx * qz - qw * qy), 2 * (qy * qz + qw * qx), 1 - 2 * (qx * qx + qy * qy),
  ];
}
