import { parse } from 'mathjs';
import type { ConditionalNode, ConstantNode, FunctionNode, MathNode, ParenthesisNode, RelationalNode, SymbolNode } from 'mathjs';
import type { ExpressionScope } from '../costs/expression-compiler.js';
import type { ParamBlock } from './param-block.js';

/** An expression the WGSL translation cannot express; the GPU path reports it as unsupported. */
export class WgslExpressionError extends Error {}

type Binding = { kind: 'state' | 'action'; index: number } | { kind: 'number'; value: number };

interface FunctionSpec {
  min: number;
  max: number;
  emit(args: readonly string[]): string;
}

const helper1 = (wgsl: string): FunctionSpec => ({ min: 1, max: 1, emit: (a) => `${wgsl}(${a[0]})` });
/** Folds n arguments through a two-argument helper, left to right. */
const fold = (wgsl: string): FunctionSpec => ({ min: 1, max: Infinity, emit: (a) => a.slice(1).reduce((acc, x) => `${wgsl}(${acc}, ${x})`, a[0]!) });

const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  ['sin', helper1('mpcd_sin')],
  ['cos', helper1('mpcd_cos')],
  ['tan', helper1('mpcd_tan')],
  ['asin', helper1('mpcd_asin')],
  ['acos', helper1('mpcd_acos')],
  ['atan', helper1('mpcd_atan')],
  ['sinh', helper1('sinh')],
  ['cosh', helper1('cosh')],
  ['tanh', helper1('mpcd_tanh')],
  ['exp', helper1('exp')],
  ['log10', helper1('mpcd_log10')],
  ['log2', helper1('mpcd_log2')],
  ['sqrt', helper1('mpcd_sqrt')],
  ['cbrt', helper1('mpcd_cbrt')],
  ['abs', helper1('abs')],
  ['sign', helper1('sign')],
  ['floor', helper1('floor')],
  ['ceil', helper1('ceil')],
  ['round', helper1('mpcd_round')],
  ['wrap', helper1('mpcd_wrap')],
  ['square', { min: 1, max: 1, emit: (a) => `mpcd_powi(${a[0]}, 2)` }],
  ['atan2', { min: 2, max: 2, emit: (a) => `mpcd_atan2(${a[0]}, ${a[1]})` }],
  ['log', { min: 1, max: 2, emit: (a) => (a.length === 1 ? `mpcd_log(${a[0]})` : `(mpcd_log(${a[0]}) / mpcd_log(${a[1]}))`) }],
  ['pow', { min: 2, max: 2, emit: (a) => `mpcd_pow(${a[0]}, ${a[1]})` }],
  ['min', fold('mpcd_min')],
  ['max', fold('mpcd_max')],
  ['hypot', { min: 1, max: Infinity, emit: (a) => (a.length === 1 ? `abs(${a[0]})` : fold('mpcd_hypot').emit(a)) }],
  ['clamp', { min: 3, max: 3, emit: (a) => `mpcd_clamp(${a.join(', ')})` }],
  ['smoothabs', { min: 2, max: 2, emit: (a) => `mpcd_smoothabs(${a[0]}, ${a[1]})` }],
]);

/** Every function name the WGSL path knows; the CPU compiler's list, to be checked against it. */
export const WGSL_EXPRESSION_FUNCTIONS: readonly string[] = [...FUNCTIONS.keys()];

const CONSTANTS: ReadonlyMap<string, number> = new Map([
  ['pi', Math.PI],
  ['e', Math.E],
  ['tau', 2 * Math.PI],
]);

const ARITHMETIC: ReadonlyMap<string, string> = new Map([
  ['add', '+'],
  ['subtract', '-'],
  ['multiply', '*'],
  ['divide', '/'],
]);
const COMPARISON: ReadonlyMap<string, string> = new Map([
  ['smaller', '<'],
  ['larger', '>'],
  ['smallerEq', '<='],
  ['largerEq', '>='],
  ['equal', '=='],
  ['unequal', '!='],
]);
const BINARY_LOGIC = new Set(['and', 'or', 'xor']);

interface OpNode {
  op: string;
  fn: string;
  args: MathNode[];
}

function isBooleanOp({ fn, args }: OpNode): boolean {
  if (fn === 'not') return args.length === 1;
  return args.length === 2 && (COMPARISON.has(fn) || BINARY_LOGIC.has(fn));
}

/** Integer exponents up to this size are multiplied out (exact for negative bases, as JS is). */
const MAX_UNROLLED_EXPONENT = 64;

/** The value of a literal exponent such as 2 or -1 (also inside parentheses), if the node is one. */
function literalExponent(node: MathNode): number | undefined {
  if (node.type === 'ParenthesisNode') return literalExponent((node as ParenthesisNode).content);
  if (node.type === 'ConstantNode') {
    const v: unknown = (node as ConstantNode<string | number | boolean | null | undefined>).value;
    return typeof v === 'number' ? v : undefined;
  }
  if (node.type === 'OperatorNode') {
    const { fn, args } = node as unknown as OpNode;
    if (args.length === 1 && (fn === 'unaryMinus' || fn === 'unaryPlus')) {
      const v = literalExponent(args[0]!);
      return v === undefined ? undefined : fn === 'unaryMinus' ? -v : v;
    }
  }
  return undefined;
}

/**
 * Translates a config expression (the language of costs/expression-compiler.ts) into one WGSL
 * f32 expression over `s` (the state, array<f32, nx>) and `a` (the action, array<f32, nu>).
 * The expression is parsed with mathjs and walked node by node, accepting exactly the node
 * kinds, operators and functions that the CPU compiler accepts; callers build the CPU cost
 * first, so its error messages are the ones a user sees for a bad expression.
 *
 * The WGSL is built from fixed fragments and array indices only: every number (literals, pi,
 * e, tau and task params) is a read of the params buffer, so no user text reaches the shader
 * and no sub-expression is a WGSL constant that the shader compiler would fold (and reject
 * when it overflows). Arithmetic is float32 where the CPU's is float64 between state reads.
 *
 * Returns the WGSL f32 expression of `source`; the numbers it needs are appended to `params`.
 */
export function emitWgslExpression(source: string, scope: ExpressionScope, params: ParamBlock, fieldPath: string): string {
  const fail = (what: string): never => {
    throw new WgslExpressionError(`${fieldPath}: ${what} in "${source}" has no WGSL translation`);
  };
  const bindings = new Map<string, Binding>([...CONSTANTS].map(([n, value]) => [n, { kind: 'number', value }]));
  scope.stateNames.forEach((name, index) => bindings.set(name, { kind: 'state', index }));
  scope.actionNames.forEach((name, index) => bindings.set(name, { kind: 'action', index }));
  for (const [name, value] of Object.entries(scope.params)) bindings.set(name, { kind: 'number', value });

  const pow = (base: MathNode, exponent: MathNode): string => {
    const n = literalExponent(exponent);
    if (n !== undefined && Number.isInteger(n) && Math.abs(n) <= MAX_UNROLLED_EXPONENT) return `mpcd_powi(${num(base)}, ${n})`;
    return `mpcd_pow(${num(base)}, ${num(exponent)})`;
  };

  const call = (node: FunctionNode): string => {
    const fnNode = node.fn as MathNode;
    if (fnNode.type !== 'SymbolNode') return fail(`calling "${fnNode.toString()}"`);
    const name = (fnNode as SymbolNode).name;
    const spec = FUNCTIONS.get(name);
    if (spec === undefined) return fail(`function "${name}"`);
    const n = node.args.length;
    if (n < spec.min || n > spec.max) return fail(`${n} arguments to "${name}"`);
    if (name === 'pow') return pow(node.args[0]!, node.args[1]!);
    return spec.emit(node.args.map(num));
  };

  const num = (node: MathNode): string => {
    switch (node.type) {
      case 'ConstantNode': {
        const v: unknown = (node as ConstantNode<string | number | boolean | null | undefined>).value;
        if (typeof v === 'boolean') return v ? '1.0f' : '0.0f';
        if (typeof v === 'number' && Number.isFinite(v)) return params.ref(v);
        return fail(`constant ${node.toString()}`);
      }
      case 'SymbolNode': {
        const name = (node as SymbolNode).name;
        const b = bindings.get(name);
        if (b === undefined) return fail(`unknown name "${name}"`);
        if (b.kind === 'number') return params.ref(b.value);
        return `${b.kind === 'state' ? 's' : 'a'}[${b.index}]`;
      }
      case 'ParenthesisNode':
        return num((node as ParenthesisNode).content);
      case 'ConditionalNode': {
        const c = node as ConditionalNode;
        return `select(${num(c.falseExpr)}, ${num(c.trueExpr)}, ${test(c.condition)})`;
      }
      case 'FunctionNode':
        return call(node as FunctionNode);
      case 'RelationalNode':
        return `mpcd_bool(${test(node)})`;
      case 'OperatorNode': {
        const op = node as unknown as OpNode;
        const { fn, args } = op;
        if (isBooleanOp(op)) return `mpcd_bool(${test(node)})`;
        if (args.length === 2) {
          const [a, b] = args as [MathNode, MathNode];
          const wgslOp = ARITHMETIC.get(fn);
          if (wgslOp !== undefined) return `(${num(a)} ${wgslOp} ${num(b)})`;
          if (fn === 'pow') return pow(a, b);
          if (fn === 'mod') return `mpcd_mod(${num(a)}, ${num(b)})`;
        } else if (args.length === 1) {
          const [a] = args as [MathNode];
          if (fn === 'unaryMinus') return `(-${num(a)})`;
          if (fn === 'unaryPlus') return num(a);
        }
        return fail(`operator "${op.op}" (${fn})`);
      }
      default:
        return fail(`${node.type} "${node.toString()}"`);
    }
  };

  /** A WGSL bool: comparisons are IEEE ones (false with NaN), numbers are truthy as in mathjs. */
  const test = (node: MathNode): string => {
    if (node.type === 'ParenthesisNode') return test((node as ParenthesisNode).content);
    if (node.type === 'RelationalNode') {
      const r = node as RelationalNode;
      const operands = r.params.map(num);
      const parts = r.conditionals.map((fn, i) => {
        const wgslOp = COMPARISON.get(fn);
        return wgslOp === undefined ? fail(`comparison "${fn}"`) : `(${operands[i]} ${wgslOp} ${operands[i + 1]})`;
      });
      return `(${parts.join(' && ')})`;
    }
    if (node.type === 'OperatorNode' && isBooleanOp(node as unknown as OpNode)) {
      const { fn, args } = node as unknown as OpNode;
      const [a, b] = args as [MathNode, MathNode];
      const wgslOp = COMPARISON.get(fn);
      if (wgslOp !== undefined) return `(${num(a)} ${wgslOp} ${num(b)})`;
      if (fn === 'not') return `(!${test(a)})`;
      if (fn === 'and') return `(${test(a)} && ${test(b)})`;
      if (fn === 'or') return `(${test(a)} || ${test(b)})`;
      return `(${test(a)} != ${test(b)})`; // xor
    }
    return `mpcd_truthy(${num(node)})`;
  };

  let root: MathNode;
  try {
    root = parse(source);
  } catch (err) {
    return fail(`a parse error (${err instanceof Error ? err.message : String(err)})`);
  }
  return num(root);
}
