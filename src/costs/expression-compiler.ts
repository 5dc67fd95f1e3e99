import { parse } from 'mathjs';
import { wrapAngle } from '../core/angles.js';
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
import type { LiveParams } from './live-params.js';

/**
 * Compiles a mathjs expression from config (a cost term or a task condition) ONCE into batched
 * JavaScript: the planner then runs a plain loop over samples, never an interpreter per sample.
 *
 * Safety: the generated code is built only from a whitelist of node kinds, operators and
 * functions. User text never reaches it except as numbers formatted here and as state/action
 * names that were validated as identifiers and matched against the scope (emitted as `v_<name>`,
 * so no name can collide with a keyword or with the loop's own variables).
 *
 * Semantics follow mathjs on real numbers, with these deliberate differences (planner speed):
 * comparisons are exact IEEE ones (mathjs compares with a 1e-12 relative tolerance), floor/ceil
 * don't snap near-integers, and where mathjs would return a complex number (sqrt(-1),
 * (-8)^(1/3), log(-1)) the result is NaN. Booleans are 1/0; NaN counts as false.
 */

export interface ExpressionScope {
  stateNames: readonly string[];
  actionNames: readonly string[];
  /** Constant params, folded in as numbers. */
  params: Readonly<Record<string, number>>;
  /** Live params, read at every evaluation (live-params.ts); their names are distinct from all above. */
  live?: LiveParams;
}

export interface BatchExpression {
  readonly source: string;
  /** out[k] = value for samples k in [0,count); states [count, nx], actions [count, nu] (flat Float32Array, row-major) */
  evaluate(states: Float32Array, actions: Float32Array, count: number, out: Float32Array): void;
  /** costs[k] += weight * value; returns the total added */
  accumulate(states: Float32Array, actions: Float32Array, count: number, weight: number, costs: Float32Array): number;
  /** one sample, for diagnostics and the success check: state [nx], action [nu] */
  evaluateOne(state: ArrayLike<number>, action: ArrayLike<number>): number;
}

export interface CompiledCondition {
  readonly source: string;
  /** True when the expression is nonzero (and not NaN) for this state [nx] and action [nu]. */
  test(state: ArrayLike<number>, action: ArrayLike<number>): boolean;
}

export function compileBatchExpression(source: string, scope: ExpressionScope, fieldPath: string): BatchExpression {
  const c = translate(source, scope, fieldPath);
  const nx = scope.stateNames.length;
  const nu = scope.actionNames.length;
  const batchReads = readsFor(c.reads, `S[so + `, `A[ao + `, ']');
  const offsets =
    (c.reads.some((r) => r.array === 'state') ? `    const so = k * ${nx};\n` : '') +
    (c.reads.some((r) => r.array === 'action') ? `    const ao = k * ${nu};\n` : '');
  const body = `
function evaluate(S, A, n, out) {
  for (let k = 0; k < n; k++) {
${offsets}${batchReads}    out[k] = ${c.value};
  }
}
function accumulate(S, A, n, w, C) {
  let total = 0;
  for (let k = 0; k < n; k++) {
${offsets}${batchReads}    const c = w * ${c.value};
    C[k] += c;
    total += c;
  }
  return total;
}
function evaluateOne(S, A) {
${readsFor(c.reads, 'S[', 'A[', ']')}  return ${c.value};
}
return { evaluate, accumulate, evaluateOne };`;
  const fns = build(body) as Omit<BatchExpression, 'source'>;
  return { source, evaluate: fns.evaluate, accumulate: fns.accumulate, evaluateOne: fns.evaluateOne };
}

export function compileCondition(source: string, scope: ExpressionScope, fieldPath: string): CompiledCondition {
  const c = translate(source, scope, fieldPath);
  const body = `
function test(S, A) {
${readsFor(c.reads, 'S[', 'A[', ']')}  return ${c.test};
}
return test;`;
  const test = build(body) as CompiledCondition['test'];
  return { source, test };
}

// ---------------------------------------------------------------------------------------------
// Runtime helpers the generated code may call (closed over, so V8 can inline them).

const HELPERS = {
  wrap: wrapAngle,
  clamp: (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi),
  square: (x: number): number => x * x,
  smoothabs: (x: number, eps: number): number => Math.sqrt(x * x + eps * eps) - eps,
  /** mathjs mod: floored, result has the divisor's sign, x mod 0 = x. */
  mod: (x: number, y: number): number => (y === 0 ? x : x - y * Math.floor(x / y)),
  /** mathjs rounds halves away from zero; Math.round rounds them up. */
  round: (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x)),
};

function build(body: string): unknown {
  const prelude = Object.keys(HELPERS).map((name) => `const h_${name} = h.${name};`).join('\n');
  // The body is assembled only from whitelisted fragments (see translate); running the factory
  // just defines the closures, once per expression.
  return new Function('h', `"use strict";\n${prelude}\n${body}`)(HELPERS);
}

// ---------------------------------------------------------------------------------------------
// Translation: mathjs node tree -> JS expression text.

interface Read {
  local: string;
  array: 'state' | 'action';
  index: number;
}

interface Translation {
  /** JS expression yielding a number. */
  value: string;
  /** JS expression yielding a boolean. */
  test: string;
  reads: Read[];
}

type Binding = { kind: 'state' | 'action'; index: number } | { kind: 'number'; value: number };

interface FunctionSpec {
  usage: string;
  min: number;
  max: number;
  emit(args: readonly string[]): string;
}

const math1 = (name: string): FunctionSpec => ({ usage: `${name}(x)`, min: 1, max: 1, emit: (a) => `Math.${name}(${a[0]})` });
const helper = (name: keyof typeof HELPERS, usage: string, arity: number): FunctionSpec => ({
  usage,
  min: arity,
  max: arity,
  emit: (a) => `h_${name}(${a.join(', ')})`,
});
const variadic = (name: string): FunctionSpec => ({
  usage: `${name}(a, b, ...)`,
  min: 1,
  max: Infinity,
  emit: (a) => `Math.${name}(${a.join(', ')})`,
});

const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  ...['sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'exp', 'log10', 'log2', 'sqrt', 'cbrt', 'abs', 'sign', 'floor', 'ceil'].map(
    (n) => [n, math1(n)] as const,
  ),
  ['atan2', { usage: 'atan2(y, x)', min: 2, max: 2, emit: (a) => `Math.atan2(${a[0]}, ${a[1]})` }],
  ['log', { usage: 'log(x) or log(x, base)', min: 1, max: 2, emit: (a) => (a.length === 1 ? `Math.log(${a[0]})` : `(Math.log(${a[0]}) / Math.log(${a[1]}))`) }],
  ['pow', { usage: 'pow(x, y)', min: 2, max: 2, emit: (a) => `(${a[0]} ** ${a[1]})` }],
  ['min', variadic('min')],
  ['max', variadic('max')],
  ['hypot', variadic('hypot')],
  ['round', helper('round', 'round(x)', 1)],
  ['wrap', helper('wrap', 'wrap(angle)', 1)],
  ['clamp', helper('clamp', 'clamp(x, lo, hi)', 3)],
  ['square', helper('square', 'square(x)', 1)],
  ['smoothabs', helper('smoothabs', 'smoothabs(x, eps)', 2)],
]);

const CONSTANTS: ReadonlyMap<string, number> = new Map([
  ['pi', Math.PI],
  ['e', Math.E],
  ['tau', 2 * Math.PI],
]);

/** Keyed by mathjs's `fn` (not by the operator's spelling, which has aliases like % and mod). */
const ARITHMETIC: ReadonlyMap<string, string> = new Map([
  ['add', '+'],
  ['subtract', '-'],
  ['multiply', '*'],
  ['divide', '/'],
  ['pow', '**'],
]);
const COMPARISON: ReadonlyMap<string, string> = new Map([
  ['smaller', '<'],
  ['larger', '>'],
  ['smallerEq', '<='],
  ['largerEq', '>='],
  ['equal', '==='],
  ['unequal', '!=='],
]);
const BINARY_LOGIC = new Set(['and', 'or', 'xor']);

/** The structural view of an OperatorNode that the translation needs. */
interface OpNode {
  op: string;
  fn: string;
  args: MathNode[];
}

/** Comparisons and logic: translated as JS booleans (and as 1/0 where a number is needed). */
function isBooleanOp({ fn, args }: OpNode): boolean {
  if (fn === 'not') return args.length === 1;
  return args.length === 2 && (COMPARISON.has(fn) || BINARY_LOGIC.has(fn));
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

function translate(source: string, scope: ExpressionScope, fieldPath: string): Translation {
  const fail = (what: string, hint = ''): never => {
    throw new MpcdError('CONFIG_EXPRESSION', `${fieldPath}: ${what} in "${source}"${hint === '' ? '' : `; ${hint}`}`);
  };
  if (typeof source !== 'string') {
    throw new MpcdError('CONFIG_EXPRESSION', `${fieldPath}: expected an expression string, got ${typeof source}`);
  }
  if (source.trim() === '') fail('empty expression');

  const bindings = bindScope(scope, fieldPath);
  const knownNames = (): string => {
    const user = new Set([...scope.stateNames, ...scope.actionNames, ...Object.keys(scope.params)]);
    const vars = [...scope.stateNames, ...scope.actionNames, ...[...CONSTANTS.keys()].filter((n) => !user.has(n))];
    const params = Object.keys(scope.params);
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

  const reads = new Map<string, Read>();

  const symbol = (name: string): string => {
    const b = bindings.get(name);
    if (b === undefined) {
      if (FUNCTIONS.has(name)) fail(`"${name}" is a function, not a value`, `call it as ${FUNCTIONS.get(name)?.usage}`);
      return fail(`unknown name "${name}"${suggest(name, [...bindings.keys()])}`, knownNames());
    }
    if (b.kind === 'number') return literal(b.value);
    // The name passed IDENTIFIER in bindScope, so `v_<name>` is a safe, collision-free local.
    const local = `v_${name}`;
    if (!reads.has(name)) reads.set(name, { local, array: b.kind, index: b.index });
    return local;
  };

  const call = (node: FunctionNode): string => {
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
    return spec.emit(node.args.map(num));
  };

  /** A JS expression that yields a number. */
  const num = (node: MathNode): string => {
    switch (node.type) {
      case 'ConstantNode': {
        const v: unknown = (node as ConstantNode<string | number | boolean | null | undefined>).value;
        if (typeof v === 'boolean') return v ? '1' : '0';
        if (typeof v === 'number' && Number.isFinite(v)) return literal(v);
        return fail(`constant ${node.toString()} is not allowed (only finite numbers and true/false)`);
      }
      case 'SymbolNode':
        return symbol((node as SymbolNode).name);
      case 'ParenthesisNode':
        return num((node as ParenthesisNode).content);
      case 'ConditionalNode': {
        const c = node as ConditionalNode;
        return `(${test(c.condition)} ? ${num(c.trueExpr)} : ${num(c.falseExpr)})`;
      }
      case 'FunctionNode':
        return call(node as FunctionNode);
      case 'RelationalNode':
        return `(${test(node)} ? 1 : 0)`;
      case 'OperatorNode': {
        const op = node as unknown as OpNode;
        const { fn, args } = op;
        if (isBooleanOp(op)) return `(${test(node)} ? 1 : 0)`;
        if (args.length === 2) {
          const [a, b] = args as [MathNode, MathNode];
          const jsOp = ARITHMETIC.get(fn);
          if (jsOp !== undefined) return `(${num(a)} ${jsOp} ${num(b)})`;
          if (fn === 'mod') return `h_mod(${num(a)}, ${num(b)})`;
        } else if (args.length === 1) {
          const [a] = args as [MathNode];
          if (fn === 'unaryMinus') return `(-${num(a)})`;
          if (fn === 'unaryPlus') return num(a);
        }
        return fail(`operator "${op.op}" (${fn}) is not allowed`, ALLOWED_SYNTAX);
      }
      default:
        return forbidden(node);
    }
  };

  /** A JS expression that yields a boolean: mathjs truthiness, so NaN is false. */
  const test = (node: MathNode): string => {
    if (node.type === 'ParenthesisNode') return test((node as ParenthesisNode).content);
    if (node.type === 'RelationalNode') {
      // a < b <= c means (a < b) and (b <= c), as in mathjs.
      const r = node as RelationalNode;
      const params = r.params.map(num);
      const parts = r.conditionals.map((fn, i) => {
        const jsOp = COMPARISON.get(fn);
        return jsOp === undefined ? fail(`comparison "${fn}" is not allowed`, ALLOWED_SYNTAX) : `${params[i]} ${jsOp} ${params[i + 1]}`;
      });
      return `(${parts.join(' && ')})`;
    }
    if (node.type === 'OperatorNode' && isBooleanOp(node as unknown as OpNode)) {
      const { fn, args } = node as unknown as OpNode;
      const [a, b] = args as [MathNode, MathNode];
      const jsOp = COMPARISON.get(fn);
      if (jsOp !== undefined) return `(${num(a)} ${jsOp} ${num(b)})`;
      if (fn === 'not') return `(!${test(a)})`;
      if (fn === 'and') return `(${test(a)} && ${test(b)})`;
      if (fn === 'or') return `(${test(a)} || ${test(b)})`;
      return `(${test(a)} !== ${test(b)})`; // xor
    }
    return `(!!${num(node)})`;
  };

  const forbidden = (node: MathNode): never => {
    const kind = FORBIDDEN_KINDS[node.type] ?? `${node.type}`;
    let what = `${kind} "${node.toString().replace(/\s+/g, ' ')}"`;
    if (node.type === 'AssignmentNode') what = `${kind} to "${(node as AssignmentNode).object.toString()}"`;
    if (node.type === 'FunctionAssignmentNode') what = `${kind} "${(node as FunctionAssignmentNode).name}"`;
    return fail(`${what} is not allowed`, ALLOWED_SYNTAX);
  };

  const value = num(root);
  const condition = test(root);
  return { value, test: condition, reads: [...reads.values()] };
}

function bindScope(scope: ExpressionScope, fieldPath: string): Map<string, Binding> {
  const fail = (what: string): never => {
    throw new MpcdError('CONFIG_EXPRESSION', `${fieldPath}: ${what}`);
  };
  // User names shadow the constants, as a mathjs scope does; clashes among user names are errors.
  const bindings = new Map<string, Binding>([...CONSTANTS].map(([n, value]) => [n, { kind: 'number', value }]));
  const user = new Set<string>();
  const add = (name: string, b: Binding, what: string): void => {
    if (user.has(name)) fail(`${what} name "${name}" is defined twice (state, action and param names must be distinct)`);
    user.add(name);
    bindings.set(name, b);
  };
  scope.stateNames.forEach((name, index) => {
    if (!IDENTIFIER.test(name)) fail(`state name "${name}" is not a valid identifier (letters, digits, _)`);
    add(name, { kind: 'state', index }, 'state');
  });
  scope.actionNames.forEach((name, index) => {
    if (!IDENTIFIER.test(name)) fail(`action name "${name}" is not a valid identifier (letters, digits, _)`);
    add(name, { kind: 'action', index }, 'action');
  });
  // Params are inlined as numbers, so their names never reach the generated code.
  for (const [name, value] of Object.entries(scope.params)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(`param "${name}" must be a finite number, got ${String(value)}`);
    add(name, { kind: 'number', value }, 'param');
  }
  return bindings;
}

/** Formats a number we own into a JS literal; the pattern check guards the guarantee. */
function literal(v: number): string {
  const s = Object.is(v, -0) ? '-0' : String(v);
  if (!Number.isFinite(v) || !/^-?[0-9]+(\.[0-9]+)?(e[+-][0-9]+)?$/.test(s)) {
    throw new Error(`internal: cannot format ${s} as a literal`);
  }
  return `(${s})`;
}

function readsFor(reads: readonly Read[], stateAt: string, actionAt: string, close: string): string {
  return reads.map((r) => `    const ${r.local} = ${r.array === 'state' ? stateAt : actionAt}${r.index}${close};\n`).join('');
}

/** ` (did you mean "theta"?)` for near misses, by edit distance. */
function suggest(name: string, candidates: readonly string[]): string {
  let best = '';
  let bestD = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best === '' ? '' : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
