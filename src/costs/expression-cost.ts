import { MpcdError } from '../core/errors.js';
import type { CostTerm } from './cost-term.js';
import { compileBatchExpression, type BatchExpression, type ExpressionScope } from './expression-compiler.js';

/** A cost term as written in config: a mathjs expression of state, action and param names. */
export interface ExpressionCostSpec {
  name: string;
  expr: string;
  /** Weight of the running cost, per horizon step. */
  weight: number;
  /** Weight of the terminal cost, at the horizon's last state. */
  terminal_weight: number;
}

/**
 * weight * expr(s, a) per step and terminal_weight * expr(s, a) at the horizon's end, with the
 * expression compiled once into a batched loop. Layouts as in CostTerm.
 */
export class ExpressionCost implements CostTerm {
  readonly name: string;
  readonly weight: number;
  readonly terminalWeight: number;
  /** The compiled expression, for diagnostics (evaluateOne) and reuse. */
  readonly expression: BatchExpression;

  /** `fieldPath` locates the expression in config (e.g. `task.cost[0].expr`) for error messages. */
  constructor(spec: ExpressionCostSpec, scope: ExpressionScope, fieldPath = `cost "${spec.name}".expr`) {
    for (const key of ['weight', 'terminal_weight'] as const) {
      // YAML's .nan and .inf get past a plain number schema; a NaN cost would poison every sample.
      if (!Number.isFinite(spec[key])) {
        throw new MpcdError('CONFIG_EXPRESSION', `cost "${spec.name}": ${key} must be a finite number, got ${String(spec[key])}`);
      }
    }
    this.name = spec.name;
    this.weight = spec.weight;
    this.terminalWeight = spec.terminal_weight;
    this.expression = compileBatchExpression(spec.expr, scope, fieldPath);
  }

  addRunning(states: Float32Array, actions: Float32Array, count: number, costs: Float32Array): number {
    if (this.weight === 0) return 0;
    return this.expression.accumulate(states, actions, count, this.weight, costs);
  }

  addTerminal(states: Float32Array, actions: Float32Array, count: number, costs: Float32Array): number {
    if (this.terminalWeight === 0) return 0;
    return this.expression.accumulate(states, actions, count, this.terminalWeight, costs);
  }
}
