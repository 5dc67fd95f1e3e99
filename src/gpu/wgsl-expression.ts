import { expressionForm, FUNCTIONS, type ArithmeticOp, type ComparisonOp, type Expr, type ExpressionForm, type ExpressionScope } from '../costs/expression-form.js';
import type { ParamBlock } from './param-block.js';

/** An expression the WGSL translation cannot express; the GPU path reports it as unsupported. */
export class WgslExpressionError extends Error {}

/** Every function name the WGSL path knows; the CPU compiler's list, to be checked against it. */
export const WGSL_EXPRESSION_FUNCTIONS: readonly string[] = [...FUNCTIONS].filter(([, f]) => f.expand !== undefined || f.emit?.wgsl !== undefined).map(([name]) => name);

const ARITHMETIC: Readonly<Record<'add' | 'sub' | 'mul' | 'div', string>> = { add: '+', sub: '-', mul: '*', div: '/' };
const COMPARISON: Readonly<Record<ComparisonOp, string>> = { lt: '<', gt: '>', le: '<=', ge: '>=', eq: '==', ne: '!=' };

/** Integer exponents up to this size are multiplied out (exact for negative bases, as JS is). */
const MAX_UNROLLED_EXPONENT = 64;

/**
 * Translates a config expression into one WGSL f32 expression over `s` (the state,
 * array<f32, nx>) and `a` (the action, array<f32, nu>): the form of expression-form.ts, which
 * checks the expression (with the CPU compilers' messages) and defines its semantics, emitted.
 *
 * The WGSL is built from fixed fragments and array indices only: every number (literals, pi,
 * e, tau, task params) is a read of the params buffer, so no user text reaches the shader and no
 * sub-expression is a WGSL constant that the shader compiler would fold (and reject when it
 * overflows). A live param is a params slot that ParamBlock marks as mirroring it, which the
 * rollout rewrites when the value changes. Arithmetic is float32 where the CPU's is float64
 * between state reads.
 *
 * Returns the WGSL f32 expression of `source`; the numbers it needs are appended to `params`.
 */
export function emitWgslExpression(source: string, scope: ExpressionScope, params: ParamBlock, fieldPath: string): string {
  return wgslExpression(expressionForm(source, scope, fieldPath), params, fieldPath);
}

/** The WGSL of a form (as emitWgslExpression). */
export function wgslExpression(form: ExpressionForm, params: ParamBlock, fieldPath: string): string {
  const num = (e: Expr): string => {
    switch (e.kind) {
      case 'num':
        return params.ref(e.value);
      case 'state':
        return `s[${e.index}]`;
      case 'action':
        return `a[${e.index}]`;
      case 'live':
        return params.liveRef(e.index, form.live.values[e.index]!);
      case 'neg':
        return `(-${num(e.arg)})`;
      case 'arithmetic':
        return arithmetic(e.op, e.left, e.right);
      case 'compare':
      case 'not':
      case 'logic':
        return `mpcd_bool(${test(e)})`;
      case 'conditional':
        return `select(${num(e.otherwise)}, ${num(e.then)}, ${test(e.test)})`;
      case 'call': {
        const emit = e.emit.wgsl;
        if (emit === undefined) throw new WgslExpressionError(`${fieldPath}: function "${e.name}" in "${form.source}" has no WGSL translation`);
        return emit(e.args.map(num));
      }
    }
  };

  const arithmetic = (op: ArithmeticOp, a: Expr, b: Expr): string => {
    if (op === 'mod') return `mpcd_mod(${num(a)}, ${num(b)})`;
    if (op !== 'pow') return `(${num(a)} ${ARITHMETIC[op]} ${num(b)})`;
    const n = literalExponent(b);
    if (n !== undefined && Number.isInteger(n) && Math.abs(n) <= MAX_UNROLLED_EXPONENT) return `mpcd_powi(${num(a)}, ${n})`;
    return `mpcd_pow(${num(a)}, ${num(b)})`;
  };

  /** A WGSL bool: comparisons are IEEE ones (false with NaN), numbers are truthy as in mathjs. */
  const test = (e: Expr): string => {
    switch (e.kind) {
      case 'compare':
        return `(${e.ops.map((op, i) => `(${num(e.args[i]!)} ${COMPARISON[op]} ${num(e.args[i + 1]!)})`).join(' && ')})`;
      case 'not':
        return `(!${test(e.arg)})`;
      case 'logic': {
        const a = test(e.left);
        const b = test(e.right);
        return e.op === 'and' ? `(${a} && ${b})` : e.op === 'or' ? `(${a} || ${b})` : `(${a} != ${b})`;
      }
      default:
        return `mpcd_truthy(${num(e)})`;
    }
  };

  return num(form.root);
}

/**
 * The value of an exponent written as a number in the source, such as 2 or -1: only these are
 * multiplied out, so the shader's integer never comes from a param.
 */
function literalExponent(e: Expr): number | undefined {
  if (e.kind === 'num') return e.literal ? e.value : undefined;
  if (e.kind === 'neg') {
    const v = literalExponent(e.arg);
    return v === undefined ? undefined : -v;
  }
  return undefined;
}
