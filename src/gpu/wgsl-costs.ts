import type { CostTermConfig } from '../config/schema.js';
import type { ExpressionScope } from '../costs/expression-form.js';
import type { LiveParams } from '../costs/live-params.js';
import { resolveNamed } from '../costs/name-index.js';
import type { ParamBlock } from './param-block.js';
import { emitWgslExpression } from './wgsl-expression.js';

/**
 * The task cost in WGSL, term by term in config order as TaskCost sums them:
 *   fn running_cost(s, a, c: f32) -> f32    after each step: the new state and that step's action
 *   fn terminal_cost(s, a, c: f32) -> f32   the last state with the last action
 * Each term's arithmetic follows its class in src/costs; a weight of 0 drops the term, as the
 * CPU skips it (so a NaN it would give cannot leak in as NaN * 0). Expressions read `live`'s
 * params from slots of `block` that mirror them (ParamBlock.liveRef).
 */
export interface CostNames {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  readonly angular: readonly boolean[];
}

interface TermWgsl {
  /** `fn term_i(s, a) -> f32`, the unweighted cost. */
  readonly fn: string;
  readonly running: number;
  readonly terminal: number;
}

export function emitTaskCost(
  terms: readonly CostTermConfig[],
  names: CostNames,
  taskParams: Readonly<Record<string, number>>,
  live: LiveParams,
  block: ParamBlock,
): string {
  const nx = names.stateNames.length;
  const nu = names.actionNames.length;
  const signature = (i: number): string => `fn term_${i}(s: array<f32, ${nx}>, a: array<f32, ${nu}>) -> f32`;
  const scope: ExpressionScope = { stateNames: names.stateNames, actionNames: names.actionNames, params: taskParams, live };
  const emitted: TermWgsl[] = terms.map((term, i) => {
    const path = `task.cost[${i}]`;
    switch (term.kind) {
      case 'expression':
        return {
          fn: `${signature(i)} {\n  return ${emitWgslExpression(term.expr, scope, block, `${path}.expr`)};\n}\n`,
          running: term.weight,
          terminal: term.terminal_weight,
        };
      case 'quadratic': {
        const lines = resolveNamed(term.weights, names.stateNames, `${path}.weights`).map(({ index, value }) => {
          const target = term.target[names.stateNames[index]!] ?? 0;
          const error = `s[${index}] - ${block.ref(target)}`;
          const e = names.angular[index] === true ? `mpcd_wrap(${error})` : error;
          return `  { let e = ${e}; c = c + ${block.ref(value)} * e * e; }\n`;
        });
        return { fn: `${signature(i)} {\n  var c = 0.0f;\n${lines.join('')}  return c;\n}\n`, running: term.weight, terminal: term.terminal_weight };
      }
      case 'effort': {
        const lines = resolveNamed(term.weights, names.actionNames, `${path}.weights`).map(
          ({ index, value }) => `  c = c + ${block.ref(value)} * a[${index}] * a[${index}];\n`,
        );
        return { fn: `${signature(i)} {\n  var c = 0.0f;\n${lines.join('')}  return c;\n}\n`, running: term.weight, terminal: 0 };
      }
      case 'state_bounds': {
        const lines = resolveNamed(term.bounds, names.stateNames, `${path}.bounds`).map(
          ({ index, value }) =>
            `  { let v = s[${index}]; let below = ${block.ref(value[0])} - v; let above = v - ${block.ref(value[1])};\n` +
            '    if (below > 0.0f) { c = c + below * below; } else if (above > 0.0f) { c = c + above * above; } }\n',
        );
        return { fn: `${signature(i)} {\n  var c = 0.0f;\n${lines.join('')}  return c;\n}\n`, running: term.weight, terminal: term.terminal_weight };
      }
      default:
        throw new RangeError(`${path}: cost kind "${(term as { kind: string }).kind}" has no WGSL translation`);
    }
  });
  const sum = (which: 'running' | 'terminal'): string =>
    emitted
      .map((t, i) => (t[which] === 0 ? '' : `  c = c + term_${i}(s, a) * ${block.ref(t[which])};\n`))
      .join('');
  return (
    emitted.map((t) => t.fn).join('\n') +
    `\nfn running_cost(s: array<f32, ${nx}>, a: array<f32, ${nu}>, c0: f32) -> f32 {\n  var c = c0;\n${sum('running')}  return c;\n}\n` +
    `\nfn terminal_cost(s: array<f32, ${nx}>, a: array<f32, ${nu}>, c0: f32) -> f32 {\n  var c = c0;\n${sum('terminal')}  return c;\n}\n`
  );
}
