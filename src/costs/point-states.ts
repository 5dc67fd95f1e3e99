import type { Config } from '../config/schema.js';
import type { TreePoint } from '../models/rigid-body/kinematic-tree.js';
import { pointKinematics } from '../models/rigid-body/native-point-kinematics.js';
import { POINT_COMPONENTS } from '../models/rigid-body/point-kinematics.js';
import type { DerivedStates } from './derived-states.js';

/** `task.points` resolved against the model's tree, or why they cannot be. */
export function resolvePoints(config: Config): { points: TreePoint[]; errors: string[] } {
  const entries = Object.entries(config.task.points);
  if (entries.length === 0) return { points: [], errors: [] };
  const m = config.model;
  if (m.kind !== 'rigid_body') return { points: [], errors: ['task.points: points need a rigid-body model (model.kind: rigid_body with the robot\'s mjcf or urdf)'] };
  const points: TreePoint[] = [];
  const errors: string[] = [];
  for (const [name, ref] of entries) {
    const kind = 'site' in ref ? 'site' : 'body';
    const target = 'site' in ref ? ref.site : ref.body;
    const found = m.tree.points.find((p) => p.kind === kind && p.name === target);
    if (found === undefined) {
      const known = m.tree.points.filter((p) => p.kind === kind).map((p) => p.name);
      errors.push(`task.points.${name}: no ${kind} named "${target}" in ${m.tree.source}; its named ${kind}s: ${known.join(', ') || '(none)'}`);
    } else points.push({ ...found, name });
  }
  return { points, errors };
}

/** The names the points add to the state: <point>_x, _y, _z, _x_dot, _y_dot, _z_dot per point. */
export function pointStateNames(config: Config): string[] {
  return Object.keys(config.task.points).flatMap((p) => POINT_COMPONENTS.map((c) => `${p}_${c}`));
}

/**
 * The points as derived states for the task cost, or undefined where the task has none. Their
 * forward kinematics is native where the addon has it, else TypeScript (pointKinematics).
 */
export function pointStates(config: Config): DerivedStates | undefined {
  const { points, errors } = resolvePoints(config);
  if (points.length === 0 || errors.length > 0 || config.model.kind !== 'rigid_body') return undefined;
  const kinematics = pointKinematics(config.model.tree, points, { frictionVelocity: config.model.frictionloss_velocity });
  return { names: pointStateNames(config), compute: (states, count, out, stride, offset) => kinematics.compute(states, count, out, stride, offset) };
}
