import type { Config } from '../config/schema.js';
import type { DynamicsModel } from '../models/dynamics.js';
import { ActionEffort } from './action-effort.js';
import type { CostTerm } from './cost-term.js';
import type { ExpressionScope } from './expression-compiler.js';
import { expressionCostTerm } from './native-expression-cost.js';
import { resolveNamed } from './name-index.js';
import { QuadraticTracking } from './quadratic-tracking.js';
import { StateBounds } from './state-bounds.js';
import { TaskCost } from './task-cost.js';

export function expressionScope(config: Config, model: DynamicsModel): ExpressionScope {
  return { stateNames: model.stateNames, actionNames: model.actionNames, params: config.task.params };
}

/** The task's cost terms, in config order, with names resolved to indices once. */
export function buildTaskCost(config: Config, model: DynamicsModel): TaskCost {
  const nx = model.stateNames.length;
  const nu = model.actionNames.length;
  const scope = expressionScope(config, model);
  const terms: CostTerm[] = config.task.cost.map((term, i) => {
    const path = `task.cost[${i}]`;
    const name = term.name ?? `${term.kind}${i}`;
    switch (term.kind) {
      case 'expression':
        // Native where the addon loads and the expression has a program, else JavaScript.
        return expressionCostTerm({ name, expr: term.expr, weight: term.weight, terminal_weight: term.terminal_weight }, scope, `${path}.expr`);
      case 'quadratic': {
        const weights = resolveNamed(term.weights, model.stateNames, `${path}.weights`);
        return new QuadraticTracking(
          name,
          nx,
          weights.map(({ index, value }) => ({
            index,
            weight: value,
            target: term.target[model.stateNames[index]!] ?? 0,
            angular: model.angular[index] === true,
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
          resolveNamed(term.bounds, model.stateNames, `${path}.bounds`).map(({ index, value }) => ({ index, low: value[0], high: value[1] })),
          term.weight,
          term.terminal_weight,
        );
    }
  });
  return new TaskCost(terms);
}
