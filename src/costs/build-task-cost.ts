import type { Config } from '../config/schema.js';
import type { DynamicsModel } from '../models/dynamics.js';
import { ActionEffort } from './action-effort.js';
import type { CostTerm } from './cost-term.js';
import type { ExpressionScope } from './expression-compiler.js';
import { expressionCostTerm } from './native-expression-cost.js';
import { resolveNamed } from './name-index.js';
import { pointStateNames, pointStates } from './point-states.js';
import { QuadraticTracking } from './quadratic-tracking.js';
import { StateBounds } from './state-bounds.js';
import { TaskCost } from './task-cost.js';
import type { LiveParams } from './live-params.js';
import { constantParams, LiveParamValues } from './task-params.js';

/**
 * What expressions name: the model's states then the task's point states, its actions, the task
 * params (constants folded; live ones read from `live`, by default a fresh set at their defaults).
 */
export function expressionScope(config: Config, model: DynamicsModel, live: LiveParams = new LiveParamValues(config.task)): ExpressionScope {
  return { stateNames: costStateNames(config, model.stateNames), actionNames: model.actionNames, params: constantParams(config.task), live };
}

/** The state names cost terms index: the model's, then the points' (point-states.ts). */
export function costStateNames(config: Config, modelStates: readonly string[]): string[] {
  return [...modelStates, ...pointStateNames(config)];
}

/**
 * The task's cost terms, in config order, with names resolved to indices once. Expressions read
 * the live params from `live` (the daemon's goals; a rollout worker's shared copy).
 */
export function buildTaskCost(config: Config, model: DynamicsModel, live: LiveParamValues = new LiveParamValues(config.task)): TaskCost {
  const stateNames = costStateNames(config, model.stateNames);
  const nx = stateNames.length;
  const angular = (index: number): boolean => model.angular[index] === true; // points are never angles
  const nu = model.actionNames.length;
  const scope = expressionScope(config, model, live);
  const terms: CostTerm[] = config.task.cost.map((term, i) => {
    const path = `task.cost[${i}]`;
    const name = term.name ?? `${term.kind}${i}`;
    switch (term.kind) {
      case 'expression':
        // Native where the addon loads and the expression has a program, else JavaScript.
        return expressionCostTerm({ name, expr: term.expr, weight: term.weight, terminal_weight: term.terminal_weight }, scope, `${path}.expr`);
      case 'quadratic': {
        const weights = resolveNamed(term.weights, stateNames, `${path}.weights`);
        return new QuadraticTracking(
          name,
          nx,
          weights.map(({ index, value }) => ({
            index,
            weight: value,
            target: term.target[stateNames[index]!] ?? 0,
            angular: angular(index),
          })),
          term.weight,
          term.terminal_weight,
        );
      }
      case 'effort':
        return new ActionEffort(
          name,
          nu,
          resolveNamed(term.weights, model.actionNames, `${path}.weights`).map(({ index, value }) => ({ index, weight: value })),
          term.weight,
        );
      case 'state_bounds':
        return new StateBounds(
          name,
          nx,
          resolveNamed(term.bounds, stateNames, `${path}.bounds`).map(({ index, value }) => ({ index, low: value[0], high: value[1] })),
          term.weight,
          term.terminal_weight,
        );
    }
  });
  const points = pointStates(config);
  return new TaskCost(terms, live, points === undefined ? undefined : { values: points, nx: model.stateNames.length, maxBatch: model.maxBatch });
}
