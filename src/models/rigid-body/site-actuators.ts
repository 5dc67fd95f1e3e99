import type { KinematicTree } from './kinematic-tree.js';
import { quatToMatrix } from './rotation.js';
import { mul33, type TreeKinematics } from './tree-kinematics.js';

/**
 * Actuators with a site transmission (MuJoCo's `<motor site="..." gear="fx fy fz tx ty tz"/>`, no
 * refsite), the way thrusters are written: per unit of actuator force, a force along and a
 * torque about the site's axes, applied to the site's body. The generalized force is
 * J_site^T (wrench); the articulated-body algorithm applies it as an external spatial force on the
 * site's node, which is the same thing. Their length is 0 and their velocity the gear projected on
 * the site's velocity and angular velocity, as MuJoCo's.
 *
 * `update` reads one sample's kinematics; scratch is allocated once, here.
 */
export class SiteActuators {
  /** [ns] the actuator (index into the actions) of each site actuator. */
  readonly actuator: Int32Array;
  /** [ns] node of each (-1: a site on the world, which moves nothing). */
  readonly node: Int32Array;
  /** [ns] actuator velocity at the sample `update` last read. */
  readonly velocity: Float64Array;
  /** [ns, 6] spatial force [moment about the world origin; force] per unit actuator force, world frame. */
  readonly unit: Float64Array;

  private readonly pos: Float64Array; // [ns, 3] site position in its node's frame
  private readonly rot: Float64Array; // [ns, 9] site frame in its node's frame, row-major
  private readonly gear: Float64Array; // [ns, 6] force then torque along the site's axes
  private readonly Rs = new Float64Array(9);

  constructor(tree: KinematicTree) {
    const sites: number[] = [];
    for (let a = 0; a < tree.nu; a++) if (tree.actuatorDof[a]! < 0) sites.push(a);
    const ns = sites.length;
    this.actuator = Int32Array.from(sites);
    this.node = Int32Array.from(sites.map((a) => tree.actuatorSiteNode[a]!));
    this.pos = Float64Array.from(sites.flatMap((a) => tree.actuatorSitePos.slice(3 * a, 3 * a + 3)));
    this.rot = Float64Array.from(sites.flatMap((a) => quatToMatrix(tree.actuatorSiteQuat.slice(4 * a, 4 * a + 4))));
    this.gear = Float64Array.from(sites.flatMap((a) => tree.actuatorWrench.slice(6 * a, 6 * a + 6)));
    this.velocity = new Float64Array(ns);
    this.unit = new Float64Array(6 * ns);
  }

  get count(): number {
    return this.actuator.length;
  }

  /** Velocities and unit wrenches at the sample whose kinematics `kin` holds. */
  update(kin: TreeKinematics): void {
    const { node, pos, rot, gear, velocity, unit, Rs } = this;
    const { R, P, V } = kin;
    for (let s = 0; s < node.length; s++) {
      const i = node[s]!;
      const u6 = 6 * s;
      if (i < 0) {
        velocity[s] = 0;
        for (let e = 0; e < 6; e++) unit[u6 + e] = 0;
        continue;
      }
      const r9 = 9 * i;
      const lx = pos[3 * s]!;
      const ly = pos[3 * s + 1]!;
      const lz = pos[3 * s + 2]!;
      // Site position in the world.
      const px = P[3 * i]! + R[r9]! * lx + R[r9 + 1]! * ly + R[r9 + 2]! * lz;
      const py = P[3 * i + 1]! + R[r9 + 3]! * lx + R[r9 + 4]! * ly + R[r9 + 5]! * lz;
      const pz = P[3 * i + 2]! + R[r9 + 6]! * lx + R[r9 + 7]! * ly + R[r9 + 8]! * lz;
      mul33(R, r9, rot, 9 * s, Rs, 0);
      // Gear in the world: force direction f and torque direction t.
      const g = 6 * s;
      const fx = Rs[0]! * gear[g]! + Rs[1]! * gear[g + 1]! + Rs[2]! * gear[g + 2]!;
      const fy = Rs[3]! * gear[g]! + Rs[4]! * gear[g + 1]! + Rs[5]! * gear[g + 2]!;
      const fz = Rs[6]! * gear[g]! + Rs[7]! * gear[g + 1]! + Rs[8]! * gear[g + 2]!;
      const tx = Rs[0]! * gear[g + 3]! + Rs[1]! * gear[g + 4]! + Rs[2]! * gear[g + 5]!;
      const ty = Rs[3]! * gear[g + 3]! + Rs[4]! * gear[g + 4]! + Rs[5]! * gear[g + 5]!;
      const tz = Rs[6]! * gear[g + 3]! + Rs[7]! * gear[g + 4]! + Rs[8]! * gear[g + 5]!;
      // Velocity: f . (velocity of the site point) + t . (angular velocity).
      const v6 = 6 * i;
      const wx = V[v6]!;
      const wy = V[v6 + 1]!;
      const wz = V[v6 + 2]!;
      const vx = V[v6 + 3]! + wy * pz - wz * py;
      const vy = V[v6 + 4]! + wz * px - wx * pz;
      const vz = V[v6 + 5]! + wx * py - wy * px;
      velocity[s] = fx * vx + fy * vy + fz * vz + tx * wx + ty * wy + tz * wz;
      // Wrench about the world origin: [t + p x f; f].
      unit[u6] = tx + py * fz - pz * fy;
      unit[u6 + 1] = ty + pz * fx - px * fz;
      unit[u6 + 2] = tz + px * fy - py * fx;
      unit[u6 + 3] = fx;
      unit[u6 + 4] = fy;
      unit[u6 + 5] = fz;
    }
  }
}
