import { parse } from 'mathjs';
import type { ConditionalNode, ConstantNode, FunctionNode, MathNode, ParenthesisNode, RelationalNode, SymbolNode } from 'mathjs';
import type { ExpressionScope } from './expression-compiler.js';

/**
 * Compiles a cost expression into a stack program for the native kernel (evalExpression in
 * native/kernels/expression_kernel.c), which runs each instruction over a block of samples at
 * once. Same parse tree, whitelist and semantics as the JavaScript compiler (expression-compiler.ts):
 * doubles throughout, exact IEEE comparisons, booleans as 1/0 with NaN false, mathjs mod and
 * round, NaN where mathjs would go complex. Both branches of `c ? a : b` are computed and one is
 * kept per sample, which is the same since expressions have no side effects.
 */

/** Opcode names in opcode order; expression_kernel.c exports its own list to check against. */
export const EXPRESSION_OPCODES = [
  'const',
  'state',
  'action',
  'add',
  'sub',
  'mul',
  'div',
  'neg',
  'pow',
  'powi',
  'mod',
  'lt',
  'gt',
  'le',
  'ge',
  'eq',
  'ne',
  'not',
  'and',
  'or',
  'xor',
  'select',
  'sin',
  'cos',
  'tan',
  'exp',
  'log',
  'log2',
  'log10',
  'sqrt',
  'abs',
  'sign',
  'floor',
  'ceil',
  'round',
  'min',
  'max',
  'hypot',
  'wrap',
  'square',
  'smoothabs',
  'addc',
  'subc',
  'rsubc',
  'mulc',
  'divc',
  'rdivc',
] as const;
export type Opcode = (typeof EXPRESSION_OPCODES)[number];

/** The kernel's limits (expression_kernel.c): a program past them runs in JavaScript instead. */
export const PROGRAM_LIMITS = { stack: 32, instructions: 1024, consts: 1024, powi: 1024, hypotArgs: 64 } as const;

/** The functions a program cannot express (the JavaScript compiler knows them). */
export const FUNCTIONS_WITHOUT_OPCODE: readonly string[] = ['asin', 'acos', 'atan', 'atan2', 'sinh', 'cosh', 'tanh', 'cbrt'];

export interface ExpressionProgram {
  readonly source: string;
  /** [instructions, 2]: opcode, operand (a consts index, state or action index, exponent or argument count). */
  readonly ops: Int32Array;
  readonly consts: Float64Array;
  /** Most values on the stack at once. */
  readonly maxDepth: number;
}

const OPCODE = new Map<Opcode, number>(EXPRESSION_OPCODES.map((name, i) => [name, i]));

const UNARY_FUNCTIONS = new Map<string, Opcode>([
  ['sin', 'sin'],
  ['cos', 'cos'],
  ['tan', 'tan'],
  ['exp', 'exp'],
  ['log2', 'log2'],
  ['log10', 'log10'],
  ['sqrt', 'sqrt'],
  ['abs', 'abs'],
  ['sign', 'sign'],
  ['floor', 'floor'],
  ['ceil', 'ceil'],
  ['round', 'round'],
  ['wrap', 'wrap'],
  ['square', 'square'],
]);

/** Binary arithmetic by mathjs fn: the opcode, and those with a constant right or left operand. */
const ARITHMETIC = new Map<string, { op: Opcode; constRight: Opcode; constLeft: Opcode; fold: (a: number, b: number) => number }>([
  ['add', { op: 'add', constRight: 'addc', constLeft: 'addc', fold: (a, b) => a + b }],
  ['subtract', { op: 'sub', constRight: 'subc', constLeft: 'rsubc', fold: (a, b) => a - b }],
  ['multiply', { op: 'mul', constRight: 'mulc', constLeft: 'mulc', fold: (a, b) => a * b }],
  ['divide', { op: 'div', constRight: 'divc', constLeft: 'rdivc', fold: (a, b) => a / b }],
]);
const COMPARISON = new Map<string, Opcode>([
  ['smaller', 'lt'],
  ['larger', 'gt'],
  ['smallerEq', 'le'],
  ['largerEq', 'ge'],
  ['equal', 'eq'],
  ['unequal', 'ne'],
]);
const BINARY_LOGIC = new Map<string, Opcode>([
  ['and', 'and'],
  ['or', 'or'],
  ['xor', 'xor'],
]);

const CONSTANTS: ReadonlyMap<string, number> = new Map([
  ['pi', Math.PI],
  ['e', Math.E],
  ['tau', 2 * Math.PI],
]);

interface OpNode {
  op: string;
  fn: string;
  args: MathNode[];
}

type Binding = { kind: 'state' | 'action'; index: number } | { kind: 'number'; value: number };

/** Thrown inside the compiler for anything without an opcode; the caller then keeps JavaScript. */
class NoOpcode extends Error {}

/**
 * The program for `source`, or undefined where it needs a function without an opcode
 * (FUNCTIONS_WITHOUT_OPCODE) or outgrows PROGRAM_LIMITS. `source` must already have compiled with
 * compileBatchExpression, which reports bad expressions; here they are merely undefined.
 */
export function compileExpressionProgram(source: string, scope: ExpressionScope): ExpressionProgram | undefined {
  try {
    return new ProgramBuilder(source, bind(scope)).build();
  } catch (err) {
    if (err instanceof NoOpcode) return undefined;
    throw err;
  }
}

/** Names as the JavaScript compiler binds them: user names shadow pi, e and tau; params are numbers. */
function bind(scope: ExpressionScope): Map<string, Binding> {
  const bindings = new Map<string, Binding>([...CONSTANTS].map(([n, value]) => [n, { kind: 'number', value }]));
  scope.stateNames.forEach((name, index) => bindings.set(name, { kind: 'state', index }));
  scope.actionNames.forEach((name, index) => bindings.set(name, { kind: 'action', index }));
  for (const [name, value] of Object.entries(scope.params)) bindings.set(name, { kind: 'number', value });
  return bindings;
}

class ProgramBuilder {
  private readonly ops: number[] = [];
  private readonly consts: number[] = [];
  private readonly constIndex = new Map<string, number>();
  private depth = 0;
  private maxDepth = 0;

  constructor(
    private readonly source: string,
    private readonly bindings: ReadonlyMap<string, Binding>,
  ) {}

  build(): ExpressionProgram {
    this.num(parse(this.source));
    if (this.ops.length / 2 > PROGRAM_LIMITS.instructions || this.consts.length > PROGRAM_LIMITS.consts) throw new NoOpcode('program too long');
    return { source: this.source, ops: Int32Array.from(this.ops), consts: Float64Array.from(this.consts), maxDepth: this.maxDepth };
  }

  private emit(op: Opcode, operand = 0, pops = 0, pushes = 1): void {
    this.ops.push(OPCODE.get(op)!, operand);
    this.depth += pushes - pops;
    this.maxDepth = Math.max(this.maxDepth, this.depth);
    if (this.maxDepth > PROGRAM_LIMITS.stack) throw new NoOpcode('stack too deep');
  }

  private unary(op: Opcode, operand = 0): void {
    this.emit(op, operand, 1, 1);
  }

  private binary(op: Opcode): void {
    this.emit(op, 0, 2, 1);
  }

  private constant(value: number): void {
    this.emit('const', this.constSlot(value));
  }

  private constSlot(value: number): number {
    // -0 and 0 are different constants (1 / -0 is -Infinity).
    const key = Object.is(value, -0) ? '-0' : String(value);
    let index = this.constIndex.get(key);
    if (index === undefined) {
      index = this.consts.push(value) - 1;
      this.constIndex.set(key, index);
    }
    return index;
  }

  /** Leaves the node's number on the stack. */
  private num(node: MathNode): void {
    switch (node.type) {
      case 'ConstantNode': {
        const v: unknown = (node as ConstantNode<string | number | boolean | null | undefined>).value;
        if (typeof v === 'boolean') return this.constant(v ? 1 : 0);
        if (typeof v === 'number' && Number.isFinite(v)) return this.constant(v);
        throw new NoOpcode(`constant ${String(v)}`);
      }
      case 'SymbolNode': {
        const b = this.bindings.get((node as SymbolNode).name);
        if (b === undefined) throw new NoOpcode(`unknown name ${(node as SymbolNode).name}`);
        if (b.kind === 'number') return this.constant(b.value);
        return this.emit(b.kind, b.index);
      }
      case 'ParenthesisNode':
        return this.num((node as ParenthesisNode).content);
      case 'ConditionalNode': {
        const c = node as ConditionalNode;
        this.test(c.condition);
        this.num(c.trueExpr);
        this.num(c.falseExpr);
        return this.emit('select', 0, 3, 1);
      }
      case 'FunctionNode':
        return this.call(node as FunctionNode);
      case 'RelationalNode':
        return this.test(node);
      case 'OperatorNode': {
        const op = node as unknown as OpNode;
        if (isBooleanOp(op)) return this.test(node);
        const folded = constantValue(node, this.bindings);
        if (folded !== undefined) return this.constant(folded);
        const { fn, args } = op;
        if (args.length === 2) {
          const [a, b] = args as [MathNode, MathNode];
          const arithmetic = ARITHMETIC.get(fn);
          if (arithmetic !== undefined) {
            // Constants fold or ride in the instruction: a + b = b + a and a * b = b * a in IEEE.
            const ca = constantValue(a, this.bindings);
            const cb = constantValue(b, this.bindings);
            if (ca !== undefined && cb !== undefined) return this.constant(arithmetic.fold(ca, cb));
            if (cb !== undefined) {
              this.num(a);
              return this.unary(arithmetic.constRight, this.constSlot(cb));
            }
            if (ca !== undefined) {
              this.num(b);
              return this.unary(arithmetic.constLeft, this.constSlot(ca));
            }
            this.num(a);
            this.num(b);
            return this.binary(arithmetic.op);
          }
          if (fn === 'pow') return this.pow(a, b);
          if (fn === 'mod') {
            this.num(a);
            this.num(b);
            return this.binary('mod');
          }
        } else if (args.length === 1) {
          const [a] = args as [MathNode];
          if (fn === 'unaryMinus') {
            this.num(a);
            return this.unary('neg');
          }
          if (fn === 'unaryPlus') return this.num(a);
        }
        throw new NoOpcode(`operator ${fn}`);
      }
      default:
        throw new NoOpcode(node.type);
    }
  }

  /**
   * Leaves a value whose JavaScript truthiness is the node's truth (1/0 for comparisons and
   * logic, the number itself otherwise); `not`, `and`, `or`, `xor` and `select` read truthiness.
   */
  private test(node: MathNode): void {
    if (node.type === 'ParenthesisNode') return this.test((node as ParenthesisNode).content);
    if (node.type === 'RelationalNode') {
      // a < b <= c means (a < b) and (b <= c), as in mathjs.
      const r = node as RelationalNode;
      r.conditionals.forEach((fn, i) => {
        const op = COMPARISON.get(fn);
        if (op === undefined) throw new NoOpcode(`comparison ${fn}`);
        this.num(r.params[i]!);
        this.num(r.params[i + 1]!);
        this.binary(op);
        if (i > 0) this.binary('and');
      });
      return;
    }
    if (node.type === 'OperatorNode' && isBooleanOp(node as unknown as OpNode)) {
      const { fn, args } = node as unknown as OpNode;
      const [a, b] = args as [MathNode, MathNode];
      const comparison = COMPARISON.get(fn);
      if (comparison !== undefined) {
        this.num(a);
        this.num(b);
        return this.binary(comparison);
      }
      if (fn === 'not') {
        this.test(a);
        return this.unary('not');
      }
      this.test(a);
      this.test(b);
      return this.binary(BINARY_LOGIC.get(fn)!);
    }
    return this.num(node);
  }

  /** a ** b: repeated products for a constant integer exponent, else exp(b log|a|) with JavaScript's cases. */
  private pow(a: MathNode, b: MathNode): void {
    this.num(a);
    const n = constantValue(b, this.bindings);
    if (n !== undefined && Number.isInteger(n) && Math.abs(n) <= PROGRAM_LIMITS.powi) return this.unary('powi', n);
    this.num(b);
    this.binary('pow');
  }

  private call(node: FunctionNode): void {
    const fnNode = node.fn as MathNode;
    if (fnNode.type !== 'SymbolNode') throw new NoOpcode('call');
    const name = (fnNode as SymbolNode).name;
    const args = node.args;
    const unary = UNARY_FUNCTIONS.get(name);
    if (unary !== undefined && args.length === 1) {
      this.num(args[0]!);
      return this.unary(unary);
    }
    switch (name) {
      case 'log':
        this.num(args[0]!);
        this.unary('log');
        if (args.length === 2) {
          // Math.log(x) / Math.log(base), as the JavaScript compiler emits it.
          this.num(args[1]!);
          this.unary('log');
          this.binary('div');
        }
        return;
      case 'pow':
        if (args.length === 2) return this.pow(args[0]!, args[1]!);
        break;
      case 'min':
      case 'max':
        // Math.min(a, b, c) folds pairwise: NaN anywhere wins and -0 < +0 either way.
        this.num(args[0]!);
        for (const arg of args.slice(1)) {
          this.num(arg);
          this.binary(name);
        }
        return;
      case 'hypot':
        if (args.length > PROGRAM_LIMITS.hypotArgs) break;
        for (const arg of args) this.num(arg);
        return this.emit('hypot', args.length, args.length, 1);
      case 'clamp':
        // Math.min(Math.max(x, lo), hi)
        this.num(args[0]!);
        this.num(args[1]!);
        this.binary('max');
        this.num(args[2]!);
        return this.binary('min');
      case 'smoothabs':
        this.num(args[0]!);
        this.num(args[1]!);
        return this.binary('smoothabs');
    }
    throw new NoOpcode(`function ${name}`);
  }
}

/** Comparisons and logic: translated as 1/0. */
function isBooleanOp({ fn, args }: OpNode): boolean {
  if (fn === 'not') return args.length === 1;
  return args.length === 2 && (COMPARISON.has(fn) || BINARY_LOGIC.has(fn));
}

/**
 * The node's value when it is a number known at compile time: literals, params, pi, e, tau and
 * + - * / ** of those, computed as the JavaScript the other compiler emits would compute them.
 */
function constantValue(node: MathNode, bindings: ReadonlyMap<string, Binding>): number | undefined {
  switch (node.type) {
    case 'ConstantNode': {
      const v: unknown = (node as ConstantNode<string | number | boolean | null | undefined>).value;
      return typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'boolean' ? (v ? 1 : 0) : undefined;
    }
    case 'SymbolNode': {
      const b = bindings.get((node as SymbolNode).name);
      return b?.kind === 'number' ? b.value : undefined;
    }
    case 'ParenthesisNode':
      return constantValue((node as ParenthesisNode).content, bindings);
    case 'OperatorNode': {
      const { fn, args } = node as unknown as OpNode;
      const values = args.map((a) => constantValue(a, bindings));
      if (values.some((v) => v === undefined)) return undefined;
      const [a, b] = values as number[];
      if (args.length === 1) return fn === 'unaryMinus' ? -a! : fn === 'unaryPlus' ? a : undefined;
      if (args.length !== 2) return undefined;
      if (fn === 'pow') return a! ** b!;
      return ARITHMETIC.get(fn)?.fold(a!, b!);
    }
    default:
      return undefined;
  }
}
