import type { Config } from '../config/schema.js';
import { buildTaskCost, costStateNames } from '../costs/build-task-cost.js';
import { resolvePoints } from '../costs/point-states.js';
import type { LiveParams } from '../costs/live-params.js';
import { constantParams, LiveParamValues } from '../costs/task-params.js';
import { residualSpecForConfig } from '../learning/residual-spec-for-config.js';
import { buildAnalyticModel } from '../models/build-model.js';
import { modelLabel } from '../models/continuous-model.js';
import type { Unsupported } from './open-gpu-device.js';
import { ParamBlock } from './param-block.js';
import { emitTaskCost } from './wgsl-costs.js';
import { emitDynamics } from './wgsl-dynamics.js';
import { WgslExpressionError } from './wgsl-expression.js';
import { emitIntegrator } from './wgsl-integrator.js';
import { WGSL_MATH } from './wgsl-math.js';
import { emitPointStates } from './wgsl-points.js';
import { emitResidual, residualLayout, type ResidualLayout } from './wgsl-residual.js';

/**
 * The WGSL of one rollout kernel for a config: one invocation per sample k runs the whole
 * horizon in private memory (integrate, add the residual, add the running cost; the terminal
 * cost at the end) and writes costs[k], the same sum RolloutEngine.evaluate makes. With
 * task.points (a rigid-body model), the cost terms see each state extended by its points,
 * [state | points] (cost_states, wgsl-points.ts), as TaskCost extends its rows.
 *
 * Bindings (group 0):
 *   0 uniform  run      { count, members, block, groups_per_member, x0: array<vec4<f32>, ceil(nx / 4)> }
 *             dispatch max(members, 1) * groups_per_member workgroups
 *   1 storage  actions  [horizon, maxSamples, nu]   step-major, as the planners fill them
 *   2 storage  P        [slots]                     every real-valued constant, and the live params (ParamBlock)
 *   3 storage  W        [slots, memberFloats / 4]   residual weights as vec4s; only with model.residual
 *   4 storage  costs    [maxSamples]
 * Shapes (nx, nu, horizon, maxSamples, substeps, network widths) are compiled in; values are not.
 */
export interface RolloutKernel {
  readonly code: string;
  /** The params buffer's contents, live slots at the values `live` held when built. */
  readonly params: Float32Array;
  /** The task's live params, which the kernel reads from its params buffer. */
  readonly live: LiveParams;
  /** [live slots, 2]: a params slot, and the `live.values` index it mirrors. */
  readonly liveSlots: Int32Array;
  readonly stateDim: number;
  readonly actionDim: number;
  readonly horizon: number;
  readonly maxSamples: number;
  readonly workgroupSize: number;
  /** Present when the config has model.residual. */
  readonly residual: ResidualLayout | undefined;
}

export const WORKGROUP_SIZE = 64;
const COST_KINDS: ReadonlySet<string> = new Set(['expression', 'quadratic', 'effort', 'state_bounds']);

/** What in this config the kernel cannot express, if anything. */
export function unsupportedFeature(config: Config): string | undefined {
  const residual = config.model.residual;
  // The planner adds these penalties only over a hybrid model (build-planner.ts).
  if (residual !== undefined && residual.uncertainty_weight > 0) {
    return `model.residual.uncertainty_weight = ${residual.uncertainty_weight} > 0: the disagreement penalty needs every member's prediction for every sample, which the GPU kernel does not compute`;
  }
  const value = config.learning.value;
  if (residual !== undefined && value.enabled && value.weight > 0) {
    return `learning.value is enabled with weight ${value.weight} > 0: the learned terminal value has no GPU kernel`;
  }
  const unknown = config.task.cost.findIndex((t) => !COST_KINDS.has(t.kind));
  if (unknown >= 0) return `task.cost[${unknown}]: cost kind "${config.task.cost[unknown]!.kind}" has no WGSL translation`;
  const model = config.model;
  if (model.kind === 'rigid_body' && (model.tree.nq === 0 || model.tree.nu === 0)) {
    return `model rigid_body ${model.tree.name} has ${model.tree.nq} hinge or slide joints and ${model.tree.nu} actuators on them; the GPU kernel needs at least one of each`;
  }
  return undefined;
}

/**
 * The kernel for `config`, reading the task's live params from `liveParams` (Float64 [live
 * params], LiveParamValues' buffer; the planner's thread writes it) or, without one, from a
 * fresh set at their defaults.
 */
export function buildRolloutKernel(config: Config, maxSamples: number, liveParams?: SharedArrayBuffer): RolloutKernel | Unsupported {
  const why = unsupportedFeature(config);
  if (why !== undefined) return { unsupported: why };
  const model = buildAnalyticModel(config, 1);
  const live = new LiveParamValues(config.task, liveParams);
  // The CPU cost first: a bad name or expression fails with its message, not as "unsupported".
  buildTaskCost(config, model, live);
  const nx = model.stateNames.length;
  const nu = model.actionNames.length;
  const horizon = config.planner.horizon;
  const block = new ParamBlock();
  const dynamics = emitDynamics(config.model, block);
  if (dynamics === undefined) return { unsupported: `model ${modelLabel(config.model)} has no WGSL dynamics${config.model.kind === 'analytic' ? ' (its descriptor in src/models/analytic/ has no wgsl part)' : ''}` };
  const integrator = emitIntegrator(config.model.integrator, config.model.substeps, nx, nu, config.control.period, block);
  // The cost's rows: the state, then the task's points where it has any.
  const points = config.model.kind === 'rigid_body' ? resolvePoints(config).points : [];
  const pointStates = config.model.kind === 'rigid_body' && points.length > 0 ? emitPointStates(config.model.tree, points, block) : undefined;
  const row = (state: string): string => (pointStates === undefined ? state : `cost_states(${state})`);
  const costNames = { stateNames: costStateNames(config, model.stateNames), actionNames: model.actionNames, angular: model.angular };
  let cost: string;
  try {
    cost = emitTaskCost(config.task.cost, costNames, constantParams(config.task), live, block);
  } catch (err) {
    if (err instanceof WgslExpressionError) return { unsupported: err.message };
    throw err;
  }
  const spec = residualSpecForConfig(config, model);
  const residual = spec === undefined ? undefined : residualLayout(spec);
  const x0 = Array.from({ length: nx }, (_, i) => `run.x0[${i >> 2}][${i & 3}]`).join(', ');
  const actionReads = Array.from({ length: nu }, (_, j) => `actions[ao + ${j}u]`).join(', ');
  const code = /* wgsl */ `
struct Run {
  count: u32,
  members: u32, // elite members installed; 0 = the analytic model alone
  block: u32, // ceil(count / members): samples [m * block, (m + 1) * block) use member m
  groups_per_member: u32, // ceil(block / ${WORKGROUP_SIZE})
  x0: array<vec4<f32>, ${Math.ceil(nx / 4)}>,
}
@group(0) @binding(0) var<uniform> run: Run;
@group(0) @binding(1) var<storage, read> actions: array<f32>; // [${horizon}, ${maxSamples}, ${nu}]
@group(0) @binding(2) var<storage, read> P: array<f32>;
${residual === undefined ? '' : '@group(0) @binding(3) var<storage, read> W: array<vec4<f32>>; // [slots, memberFloats / 4]'}
@group(0) @binding(4) var<storage, read_write> costs: array<f32>; // [${maxSamples}]
${WGSL_MATH}${dynamics}${integrator}${residual === undefined ? '' : emitResidual(residual)}${pointStates ?? ''}
${cost}
// Each workgroup lies inside one member's block, so the member and every weight address are the
// same across it: the weights are read as broadcasts, never diverge.
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let member = group.x / run.groups_per_member;
  let k = member * run.block + (group.x % run.groups_per_member) * ${WORKGROUP_SIZE}u + lane;
  if (k >= min(run.count, (member + 1u) * run.block)) { return; }
  var s = array<f32, ${nx}>(${x0});
  var a: array<f32, ${nu}>;
  var c = 0.0f;
  for (var t = 0u; t < ${horizon}u; t++) {
    let ao = (t * ${maxSamples}u + k) * ${nu}u;
    a = array<f32, ${nu}>(${actionReads});
    var next = integrate(s, a);
${residual === undefined ? '' : '    if (run.members > 0u) { next = add_residual(member, s, a, next); }\n'}    c = running_cost(${row('next')}, a, c);
    s = next;
  }
  costs[k] = terminal_cost(${row('s')}, a, c);
}
`;
  return { code, params: block.data(), live, liveSlots: block.liveSlots(), stateDim: nx, actionDim: nu, horizon, maxSamples, workgroupSize: WORKGROUP_SIZE, residual };
}
