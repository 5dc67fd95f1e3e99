import { MpcdError } from '../core/errors.js';
import { compileBatchExpression, compileCondition, type ExpressionScope } from '../costs/expression-compiler.js';
import { pointStateNames, resolvePoints } from '../costs/point-states.js';
import { constantParams, liveParamNames, LiveParamValues, taskParamSpecs } from '../costs/task-params.js';
import { continuousModel } from '../models/continuous-model.js';
import type { Config } from './schema.js';

/**
 * Checks every place where the config names a state, an action or writes an expression against
 * the model's names. Returns one line per problem (empty when all is well).
 */
export function checkNames(config: Config): string[] {
  const dyn = continuousModel(config.model);
  const states = dyn.stateNames;
  const actions = dyn.actionNames;
  const errors: string[] = [];

  const keys = (map: Record<string, unknown>, known: readonly string[], path: string, kind: string, requireAll: boolean): void => {
    for (const k of Object.keys(map)) {
      if (!known.includes(k)) errors.push(`${path}.${k}: unknown ${kind} "${k}"; expected one of: ${known.join(', ')}`);
    }
    if (requireAll) {
      for (const k of known) if (!(k in map)) errors.push(`${path}.${k}: missing; give a value for every ${kind} (${known.join(', ')})`);
    }
  };

  keys(config.control.action_bounds, actions, 'control.action_bounds', 'action', true);
  if (config.planner.kind === 'mppi') keys(config.planner.noise_std, actions, 'planner.noise_std', 'action', true);
  else keys(config.planner.init_std, actions, 'planner.init_std', 'action', true);
  keys(config.scenario.initial_state, states, 'scenario.initial_state', 'state', false);
  const goals = config.scenario.goals;
  if (goals !== undefined) {
    const live = liveParamNames(config.task);
    if (live.length === 0) errors.push('scenario.goals: the task has no live params to set; declare the targets as task.params.<name>: {default, bounds, live: true}');
    keys(goals.params, live, 'scenario.goals.params', 'live task param', false);
    for (const spec of taskParamSpecs(config.task)) {
      const g = goals.params[spec.name];
      if (g === undefined || spec.bounds === undefined) continue;
      const [lo, hi] = typeof g === 'number' ? [g, g] : g;
      if (lo < spec.bounds[0] || hi > spec.bounds[1]) errors.push(`scenario.goals.params.${spec.name}: [${lo}, ${hi}] reaches outside the param's bounds [${spec.bounds[0]}, ${spec.bounds[1]}]`);
    }
    if (goals.every_seconds > config.scenario.episode_seconds) errors.push(`scenario.goals.every_seconds: ${goals.every_seconds} s is longer than the episode (${config.scenario.episode_seconds} s)`);
  }
  if (config.estimator.input_disturbance !== undefined) keys(config.estimator.input_disturbance.limit, actions, 'estimator.input_disturbance.limit', 'action', false);
  keys(config.safety.safe_action, actions, 'safety.safe_action', 'action', false);
  keys(config.safety.rate_limit, actions, 'safety.rate_limit', 'action', false);

  // MuJoCo mappings (a sim plant, the virtual robot) list the model's states and actions in order; mqtt/serial plants check their channels when they open.
  for (const [path, mapping] of [['plant', config.plant.kind === 'sim' ? config.plant : undefined], ['virtual_robot', config.virtual_robot]] as const) {
    if (mapping === undefined) continue;
    const plantStates = mapping.state.map((s) => s.name);
    if (plantStates.join(',') !== states.join(',')) {
      errors.push(`${path}.state: names ${plantStates.join(', ') || '(none)'} must be the model's states in order: ${states.join(', ')}`);
    }
    const plantActions = mapping.actions.map((a) => a.name);
    if (plantActions.join(',') !== actions.join(',')) {
      errors.push(`${path}.actions: names ${plantActions.join(', ') || '(none)'} must be the model's actions in order: ${actions.join(', ')}`);
    }
  }

  for (const p of Object.keys(config.task.params)) {
    if (states.includes(p) || actions.includes(p)) errors.push(`task.params.${p}: "${p}" is already a state or action name; rename the param`);
  }
  const { errors: pointErrors } = resolvePoints(config);
  errors.push(...pointErrors);
  const pointNames = pointStateNames(config);
  for (const n of pointNames) {
    if (states.includes(n) || actions.includes(n) || n in config.task.params) errors.push(`task.points: "${n}" is already a state, action or param name; rename the point`);
  }
  // Costs and the success condition also name the points' states.
  const costStates = [...states, ...pointNames];
  const scope: ExpressionScope = { stateNames: costStates, actionNames: actions, params: constantParams(config.task), live: new LiveParamValues(config.task) };
  config.task.cost.forEach((term, i) => {
    const path = `task.cost[${i}]`;
    switch (term.kind) {
      case 'expression':
        collect(errors, () => compileBatchExpression(term.expr, scope, `${path}.expr`));
        break;
      case 'quadratic':
        keys(term.target, costStates, `${path}.target`, 'state', false);
        keys(term.weights, costStates, `${path}.weights`, 'state', false);
        break;
      case 'effort':
        keys(term.weights, actions, `${path}.weights`, 'action', false);
        break;
      case 'state_bounds':
        keys(term.bounds, costStates, `${path}.bounds`, 'state', false);
        break;
    }
  });
  collect(errors, () => compileCondition(config.task.success.expr, scope, 'task.success.expr'));
  return errors;
}

function collect(errors: string[], fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof MpcdError) errors.push(err.message);
    else throw err;
  }
}
