import { parse } from 'mathjs';
import type {
  AssignmentNode,
  ConditionalNode,
  ConstantNode,
  FunctionAssignmentNode,
  FunctionNode,
  MathNode,
  ParenthesisNode,
  RelationalNode,
  SymbolNode,
} from 'mathjs';
import { MpcdError } from '../core/errors.js';
import { suggest } from './suggest-name.js';
import type { Opcode } from './expression-program.js';
import type { LiveParams } from './live-params.js';

/**
 * A config expression (a cost term or a task condition, mathjs syntax) parsed and validated ONCE
 * into a small typed tree, which three back-ends emit: JavaScript (expression-compiler.ts), the
 * native kernel's stack program (expression-program.ts) and WGSL (gpu/wgsl-expression.ts). Only
 * this file reads mathjs nodes, binds names and reports bad expressions, as MpcdError
 * CONFIG_EXPRESSION naming the field, so every back-end accepts the same language and a user
 * sees the same message whichever runs.
 *
 * The tree (Expr):
 *   num(value)                  a number known now: a literal, true/false (1/0), pi, e, tau or a
 *                               constant param; `literal` when written as a number in the source
 *   state(i), action(i)         row reads; i indexes the scope's state / action names
 *   live(i)                     a live param, LiveParams.values[i] read at evaluation time: never
 *                               folded, never baked into generated code
 *   neg(x), arithmetic(op, a, b)   op: add sub mul div pow mod
 *   compare(ops, args)          a < b <= c: (a < b) and (b <= c), as in mathjs; 1/0
 *   not(x), logic(op, a, b)     op: and or xor, over truthiness; 1/0
 *   conditional(test, then, otherwise)
 *   call(name, args)            a function of FUNCTIONS; pow(x, y), log(x, base) and clamp are
 *                               rewritten into the forms above, so no back-end sees them
 * Parentheses and unary plus leave no trace.
 *
 * Semantics, which every back-end keeps: mathjs on real numbers, with these deliberate
 * differences (planner speed): comparisons are exact IEEE ones (mathjs compares with a 1e-12
 * relative tolerance), floor/ceil don't snap near-integers, and where mathjs would return a
 * complex number (sqrt(-1), (-8)^(1/3), log(-1)) the result is NaN. Booleans are 1/0; NaN counts
 * as false. mod is floored (the result has the divisor's sign) with x mod 0 = x; round takes
 * halves away from zero; min and max fold pairwise, NaN anywhere wins. Expressions have no side
 * effects, so a back-end may compute both branches of a conditional. JavaScript and the native
 * kernel compute in doubles; WGSL in float32.
 */

export interface ExpressionScope {
  stateNames: readonly string[];
  actionNames: readonly string[];
  /** Constant params, folded in as numbers. */
  params: Readonly<Record<string, number>>;
  /** Live params, read at every evaluation (live-params.ts); their names are distinct from all above. */
  live?: LiveParams;
}

export type ArithmeticOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'mod';
/** Named as the native opcodes are. */
export type ComparisonOp = 'lt' | 'gt' | 'le' | 'ge' | 'eq' | 'ne';
export type LogicOp = 'and' | 'or' | 'xor';

export type Expr =
  | { readonly kind: 'num'; readonly value: number; readonly literal: boolean }
  | { readonly kind: 'state' | 'action' | 'live'; readonly index: number }
  | { readonly kind: 'neg' | 'not'; readonly arg: Expr }
  | { readonly kind: 'arithmetic'; readonly op: ArithmeticOp; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'logic'; readonly op: LogicOp; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'compare'; readonly ops: readonly ComparisonOp[]; readonly args: readonly Expr[] }
  | { readonly kind: 'conditional'; readonly test: Expr; readonly then: Expr; readonly otherwise: Expr }
  | { readonly kind: 'call'; readonly name: string; readonly emit: CallEmit; readonly args: readonly Expr[] };

export interface ExpressionForm {
  readonly source: string;
  readonly root: Expr;
  /** nx and nu of the rows that state and action nodes index. */
  readonly stateCount: number;
  readonly actionCount: number;
  /** What live nodes read (no names when the scope has none). */
  readonly live: LiveParams;
}

/** How each back-end emits a call of one function, over its arguments already emitted. */
export interface CallEmit {
  /** JavaScript: Math.* or a helper h_<name> of expression-compiler.ts. */
  readonly js: (args: readonly string[]) => string;
  /** WGSL (helpers of gpu/wgsl-math.ts); undefined: none, the GPU path reports the cost unsupported. */
  readonly wgsl: ((args: readonly string[]) => string) | undefined;
  /**
   * The native opcode and how it takes the arguments (each: all at once; fold: pairwise, left to
   * right; count: all, the operand saying how many); undefined: none, the cost runs in JavaScript.
   */
  readonly native: { readonly op: Opcode; readonly args: 'each' | 'fold' | 'count' } | undefined;
}

export interface FunctionSpec {
  readonly usage: string;
  readonly min: number;
  readonly max: number;
  readonly emit?: CallEmit;
  /** Rewrites a call into other forms; where it gives undefined, `emit` emits the call. */
  readonly expand?: (args: readonly Expr[]) => Expr | undefined;
}

const call = (fn: string) => (a: readonly string[]): string => `${fn}(${a.join(', ')})`;
const pairwise = (fn: string) => (a: readonly string[]): string => a.slice(1).reduce((acc, x) => `${fn}(${acc}, ${x})`, a[0]!);
/** A one-argument Math function; its WGSL function and native opcode where it has them. */
const math1 = (name: string, wgsl: string | undefined, op?: Opcode): [string, FunctionSpec] => [
  name,
  { usage: `${name}(x)`, min: 1, max: 1, emit: { js: call(`Math.${name}`), wgsl: wgsl === undefined ? undefined : call(wgsl), native: op === undefined ? undefined : { op, args: 'each' } } },
];
const folded = (name: 'min' | 'max'): [string, FunctionSpec] => [
  name,
  { usage: `${name}(a, b, ...)`, min: 1, max: Infinity, emit: { js: call(`Math.${name}`), wgsl: pairwise(`mpcd_${name}`), native: { op: name, args: 'fold' } } },
];
const helper = (name: string, usage: string, arity: number, wgsl: (a: readonly string[]) => string, op: Opcode): [string, FunctionSpec] => [
  name,
  { usage, min: arity, max: arity, emit: { js: call(`h_${name}`), wgsl, native: { op, args: 'each' } } },
];

/**
 * The functions expressions may call. Adding one is one entry here; a native opcode for it is
 * also a name in EXPRESSION_OPCODES and a case in native/kernels/expression_kernel.c.
 */
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  math1('sin', 'mpcd_sin', 'sin'),
  math1('cos', 'mpcd_cos', 'cos'),
  math1('tan', 'mpcd_tan', 'tan'),
  math1('asin', 'mpcd_asin'),
  math1('acos', 'mpcd_acos'),
  math1('atan', 'mpcd_atan'),
  math1('sinh', 'sinh'),
  math1('cosh', 'cosh'),
  math1('tanh', 'mpcd_tanh'),
  math1('exp', 'exp', 'exp'),
  math1('log10', 'mpcd_log10', 'log10'),
  math1('log2', 'mpcd_log2', 'log2'),
  math1('sqrt', 'mpcd_sqrt', 'sqrt'),
  math1('cbrt', 'mpcd_cbrt'),
  math1('abs', 'abs', 'abs'),
  math1('sign', 'sign', 'sign'),
  math1('floor', 'floor', 'floor'),
  math1('ceil', 'ceil', 'ceil'),
  ['atan2', { usage: 'atan2(y, x)', min: 2, max: 2, emit: { js: call('Math.atan2'), wgsl: call('mpcd_atan2'), native: undefined } }],
  [
    'log',
    {
      usage: 'log(x) or log(x, base)',
      min: 1,
      max: 2,
      emit: { js: call('Math.log'), wgsl: call('mpcd_log'), native: { op: 'log', args: 'each' } },
      expand: (a) => (a.length === 2 ? { kind: 'arithmetic', op: 'div', left: callOf('log', [a[0]!]), right: callOf('log', [a[1]!]) } : undefined),
    },
  ],
  ['pow', { usage: 'pow(x, y)', min: 2, max: 2, expand: (a) => ({ kind: 'arithmetic', op: 'pow', left: a[0]!, right: a[1]! }) }],
  folded('min'),
  folded('max'),
  [
    'hypot',
    {
      usage: 'hypot(a, b, ...)',
      min: 1,
      max: Infinity,
      emit: { js: call('Math.hypot'), wgsl: (a) => (a.length === 1 ? `abs(${a[0]})` : pairwise('mpcd_hypot')(a)), native: { op: 'hypot', args: 'count' } },
    },
  ],
  helper('round', 'round(x)', 1, call('mpcd_round'), 'round'),
  helper('wrap', 'wrap(angle)', 1, call('mpcd_wrap'), 'wrap'),
  ['clamp', { usage: 'clamp(x, lo, hi)', min: 3, max: 3, expand: (a) => callOf('min', [callOf('max', [a[0]!, a[1]!]), a[2]!]) }],
  helper('square', 'square(x)', 1, (a) => `mpcd_powi(${a[0]}, 2)`, 'square'),
  helper('smoothabs', 'smoothabs(x, eps)', 2, call('mpcd_smoothabs'), 'smoothabs'),
]);

function callOf(name: string, args: readonly Expr[]): Expr {
  const spec = FUNCTIONS.get(name);
  const expanded = spec?.expand?.(args);
  if (expanded !== undefined) return expanded;
  if (spec?.emit === undefined) throw new Error(`internal: function "${name}" has neither an expansion nor an emit`);
  return { kind: 'call', name, emit: spec.emit, args };
}

/** Comparisons and logic: their value is 1/0, and a back-end may keep them as its booleans. */
export function isBoolean(e: Expr): boolean {
  return e.kind === 'compare' || e.kind === 'not' || e.kind === 'logic';
}

const FOLD: Readonly<Record<Exclude<ArithmeticOp, 'mod'>, (a: number, b: number) => number>> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
};

/**
 * The value of `e` when it is known at compile time (numbers, and + - * / ^ and unary minus of
 * them), computed as JavaScript computes it at run time; never for a live param.
 */
export function foldedValue(e: Expr): number | undefined {
  switch (e.kind) {
    case 'num':
      return e.value;
    case 'neg': {
      const v = foldedValue(e.arg);
      return v === undefined ? undefined : -v;
    }
    case 'arithmetic': {
      if (e.op === 'mod') return undefined;
      const a = foldedValue(e.left);
      const b = a === undefined ? undefined : foldedValue(e.right);
      return a === undefined || b === undefined ? undefined : FOLD[e.op](a, b);
    }
    default:
      return undefined;
  }
}

const NO_LIVE: LiveParams = { names: [], values: new Float64Array(0) };

const CONSTANTS: ReadonlyMap<string, number> = new Map([
  ['pi', Math.PI],
  ['e', Math.E],
  ['tau', 2 * Math.PI],
]);

/** Keyed by mathjs's `fn` (not by the operator's spelling, which has aliases like % and mod). */
const ARITHMETIC: ReadonlyMap<string, ArithmeticOp> = new Map([
  ['add', 'add'],
  ['subtract', 'sub'],
  ['multiply', 'mul'],
  ['divide', 'div'],
  ['pow', 'pow'],
  ['mod', 'mod'],
] as const);
const COMPARISON: ReadonlyMap<string, ComparisonOp> = new Map([
  ['smaller', 'lt'],
  ['larger', 'gt'],
  ['smallerEq', 'le'],
  ['largerEq', 'ge'],
  ['equal', 'eq'],
  ['unequal', 'ne'],
] as const);
const LOGIC: ReadonlyMap<string, LogicOp> = new Map([
  ['and', 'and'],
  ['or', 'or'],
  ['xor', 'xor'],
] as const);

/** The structural view of an OperatorNode that the translation needs. */
interface OpNode {
  op: string;
  fn: string;
  args: MathNode[];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ALLOWED_SYNTAX =
  'allowed: numbers, true/false, names, + - * / ^ % mod, unary - +, < > <= >= == !=, and or xor not, a ? b : c, parentheses, and the functions ' +
  [...FUNCTIONS.keys()].join(', ');

const FORBIDDEN_KINDS: Readonly<Record<string, string>> = {
  AssignmentNode: 'assignment',
  FunctionAssignmentNode: 'function definition',
  AccessorNode: 'property access or indexing',
  IndexNode: 'indexing',
  ObjectNode: 'object literal',
  ArrayNode: 'matrix literal',
  RangeNode: 'range',
  BlockNode: 'multiple statements',
};

/** `source` as a form over `scope`; throws MpcdError CONFIG_EXPRESSION naming `fieldPath` when it is not one. */
export function expressionForm(source: string, scope: ExpressionScope, fieldPath: string): ExpressionForm {
  const fail = (what: string, hint = ''): never => {
    throw new MpcdError('CONFIG_EXPRESSION', `${fieldPath}: ${what} in "${source}"${hint === '' ? '' : `; ${hint}`}`);
  };
  if (typeof source !== 'string') {
    throw new MpcdError('CONFIG_EXPRESSION', `${fieldPath}: expected an expression string, got ${typeof source}`);
  }
  if (source.trim() === '') fail('empty expression');

  const bindings = bindScope(scope, fieldPath);
  const knownNames = (): string => {
    const params = [...Object.keys(scope.params), ...(scope.live?.names ?? [])];
    const user = new Set([...scope.stateNames, ...scope.actionNames, ...params]);
    const vars = [...scope.stateNames, ...scope.actionNames, ...[...CONSTANTS.keys()].filter((n) => !user.has(n))];
    return `known names: ${vars.join(', ')}; params: ${params.length > 0 ? params.join(', ') : '(none)'}`;
  };

  let root: MathNode;
  try {
    root = parse(source);
  } catch (err) {
    const at = typeof (err as { char?: unknown }).char === 'number' ? (err as { char: number }).char : 0;
    const message = err instanceof Error ? err.message : String(err);
    throw new MpcdError('CONFIG_EXPRESSION', `${fieldPath}: cannot parse "${source}": ${message}`, at > 0 ? [source, `${' '.repeat(at - 1)}^`] : []);
  }

  const symbol = (name: string): Expr => {
    const b = bindings.get(name);
    if (b !== undefined) return b;
    if (FUNCTIONS.has(name)) fail(`"${name}" is a function, not a value`, `call it as ${FUNCTIONS.get(name)?.usage}`);
    return fail(`unknown name "${name}"${suggest(name, [...bindings.keys()])}`, knownNames());
  };

  const callNode = (node: FunctionNode): Expr => {
    const fnNode = node.fn as MathNode;
    if (fnNode.type !== 'SymbolNode') return fail(`calling "${fnNode.toString()}" is not allowed`, ALLOWED_SYNTAX);
    const name = (fnNode as SymbolNode).name;
    const spec = FUNCTIONS.get(name);
    if (spec === undefined) {
      if (bindings.has(name)) fail(`"${name}" is a value, not a function`, `to multiply, write ${name} * (...)`);
      return fail(`unknown function "${name}"${suggest(name, [...FUNCTIONS.keys()])}`, `known functions: ${[...FUNCTIONS.keys()].join(', ')}`);
    }
    const n = node.args.length;
    if (n < spec.min || n > spec.max) {
      const expected = spec.min === spec.max ? `${spec.min}` : spec.max === Infinity ? `at least ${spec.min}` : `${spec.min} to ${spec.max}`;
      fail(`function "${name}" takes ${expected} argument${expected === '1' ? '' : 's'}, got ${n}`, `usage: ${spec.usage}`);
    }
    return callOf(name, node.args.map(form));
  };

  const operator = ({ op, fn, args }: OpNode): Expr => {
    if (args.length === 1) {
      const [a] = args as [MathNode];
      if (fn === 'not') return { kind: 'not', arg: form(a) };
      if (fn === 'unaryMinus') return { kind: 'neg', arg: form(a) };
      if (fn === 'unaryPlus') return form(a);
    } else if (args.length === 2) {
      const [a, b] = args as [MathNode, MathNode];
      const comparison = COMPARISON.get(fn);
      if (comparison !== undefined) return { kind: 'compare', ops: [comparison], args: [form(a), form(b)] };
      const logic = LOGIC.get(fn);
      if (logic !== undefined) return { kind: 'logic', op: logic, left: form(a), right: form(b) };
      const arithmetic = ARITHMETIC.get(fn);
      if (arithmetic !== undefined) return { kind: 'arithmetic', op: arithmetic, left: form(a), right: form(b) };
    }
    return fail(`operator "${op}" (${fn}) is not allowed`, ALLOWED_SYNTAX);
  };

  const form = (node: MathNode): Expr => {
    switch (node.type) {
      case 'ConstantNode': {
        const v: unknown = (node as ConstantNode<string | number | boolean | null | undefined>).value;
        if (typeof v === 'boolean') return { kind: 'num', value: v ? 1 : 0, literal: false };
        if (typeof v === 'number' && Number.isFinite(v)) return { kind: 'num', value: v, literal: true };
        return fail(`constant ${node.toString()} is not allowed (only finite numbers and true/false)`);
      }
      case 'SymbolNode':
        return symbol((node as SymbolNode).name);
      case 'ParenthesisNode':
        return form((node as ParenthesisNode).content);
      case 'ConditionalNode': {
        const c = node as ConditionalNode;
        return { kind: 'conditional', test: form(c.condition), then: form(c.trueExpr), otherwise: form(c.falseExpr) };
      }
      case 'FunctionNode':
        return callNode(node as FunctionNode);
      case 'RelationalNode': {
        const r = node as RelationalNode;
        const args = r.params.map(form);
        const ops = r.conditionals.map((fn) => COMPARISON.get(fn) ?? fail(`comparison "${fn}" is not allowed`, ALLOWED_SYNTAX));
        return { kind: 'compare', ops, args };
      }
      case 'OperatorNode':
        return operator(node as unknown as OpNode);
      default:
        return forbidden(node);
    }
  };

  const forbidden = (node: MathNode): never => {
    const kind = FORBIDDEN_KINDS[node.type] ?? `${node.type}`;
    let what = `${kind} "${node.toString().replace(/\s+/g, ' ')}"`;
    if (node.type === 'AssignmentNode') what = `${kind} to "${(node as AssignmentNode).object.toString()}"`;
    if (node.type === 'FunctionAssignmentNode') what = `${kind} "${(node as FunctionAssignmentNode).name}"`;
    return fail(`${what} is not allowed`, ALLOWED_SYNTAX);
  };

  return { source, root: form(root), stateCount: scope.stateNames.length, actionCount: scope.actionNames.length, live: scope.live ?? NO_LIVE };
}

/** Each name's leaf: user names shadow the constants, as a mathjs scope does; clashes among user names are errors. */
function bindScope(scope: ExpressionScope, fieldPath: string): Map<string, Expr> {
  const fail = (what: string): never => {
    throw new MpcdError('CONFIG_EXPRESSION', `${fieldPath}: ${what}`);
  };
  const bindings = new Map<string, Expr>([...CONSTANTS].map(([n, value]) => [n, { kind: 'num', value, literal: false }]));
  const user = new Set<string>();
  const add = (name: string, leaf: Expr, what: string): void => {
    if (user.has(name)) fail(`${what} name "${name}" is defined twice (state, action and param names must be distinct)`);
    user.add(name);
    bindings.set(name, leaf);
  };
  // Back-ends name reads by index, never by name; the identifier rule keeps config names sane.
  scope.stateNames.forEach((name, index) => {
    if (!IDENTIFIER.test(name)) fail(`state name "${name}" is not a valid identifier (letters, digits, _)`);
    add(name, { kind: 'state', index }, 'state');
  });
  scope.actionNames.forEach((name, index) => {
    if (!IDENTIFIER.test(name)) fail(`action name "${name}" is not a valid identifier (letters, digits, _)`);
    add(name, { kind: 'action', index }, 'action');
  });
  for (const [name, value] of Object.entries(scope.params)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(`param "${name}" must be a finite number, got ${String(value)}`);
    add(name, { kind: 'num', value, literal: false }, 'param');
  }
  const live = scope.live;
  if (live !== undefined) {
    if (live.values.length < live.names.length) throw new RangeError(`live params: ${live.names.length} names but ${live.values.length} values`);
    live.names.forEach((name, index) => add(name, { kind: 'live', index }, 'param'));
  }
  return bindings;
}
