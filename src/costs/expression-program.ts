import { expressionForm, FUNCTIONS, foldedValue, type Expr, type ExpressionForm, type ExpressionScope } from './expression-form.js';

/**
 * Emits a cost expression's form (expression-form.ts, whose semantics it keeps) as a stack
 * program for the native kernel (evalExpression in native/kernels/expression_kernel.c), which
 * runs each instruction over a block of samples at once. Doubles throughout; both branches of
 * `c ? a : b` are computed and one is kept per sample, which is the same since expressions have
 * no side effects.
 *
 * Constants fold, or ride in the instruction (addc, mulc, ...: the operand indexes consts). A
 * live param gets a consts slot of its own (ExpressionProgram.liveSlots) that whoever runs the
 * program rewrites before each call; it may ride in an instruction too, since the kernel reads
 * the slot at run time, but it never folds and never becomes a powi exponent.
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
export const FUNCTIONS_WITHOUT_OPCODE: readonly string[] = [...FUNCTIONS].filter(([, f]) => f.expand === undefined && f.emit?.native === undefined).map(([name]) => name);

export interface ExpressionProgram {
  readonly source: string;
  /** [instructions, 2]: opcode, operand (a consts index, state or action index, exponent or argument count). */
  readonly ops: Int32Array;
  /** [consts]: the constants, and the live params' slots holding their values when compiled. */
  readonly consts: Float64Array;
  /** [live slots, 2]: a consts index, and the LiveParams.values index to copy into it before each run. */
  readonly liveSlots: Int32Array;
  /** Most values on the stack at once. */
  readonly maxDepth: number;
}

const OPCODE = new Map<Opcode, number>(EXPRESSION_OPCODES.map((name, i) => [name, i]));

/** Binary arithmetic: the opcodes with a constant right or left operand. */
const WITH_CONSTANT = {
  add: { right: 'addc', left: 'addc' },
  sub: { right: 'subc', left: 'rsubc' },
  mul: { right: 'mulc', left: 'mulc' },
  div: { right: 'divc', left: 'rdivc' },
} as const satisfies Record<string, { right: Opcode; left: Opcode }>;

/** Thrown inside the builder for anything without an opcode; the caller then keeps JavaScript. */
class NoOpcode extends Error {}

/**
 * The program for `source`, or undefined where it needs a function without an opcode
 * (FUNCTIONS_WITHOUT_OPCODE) or outgrows PROGRAM_LIMITS. A bad expression throws the form's
 * MpcdError, as the JavaScript compiler does.
 */
export function compileExpressionProgram(source: string, scope: ExpressionScope, fieldPath = 'expression'): ExpressionProgram | undefined {
  return expressionProgram(expressionForm(source, scope, fieldPath));
}

/** The program of a form, or undefined (as compileExpressionProgram). */
export function expressionProgram(form: ExpressionForm): ExpressionProgram | undefined {
  try {
    return new ProgramBuilder(form).build();
  } catch (err) {
    if (err instanceof NoOpcode) return undefined;
    throw err;
  }
}

class ProgramBuilder {
  private readonly ops: number[] = [];
  private readonly consts: number[] = [];
  private readonly constIndex = new Map<string, number>();
  /** live index -> consts index */
  private readonly liveIndex = new Map<number, number>();
  private depth = 0;
  private maxDepth = 0;

  constructor(private readonly form: ExpressionForm) {}

  build(): ExpressionProgram {
    this.num(this.form.root);
    if (this.ops.length / 2 > PROGRAM_LIMITS.instructions || this.consts.length > PROGRAM_LIMITS.consts) throw new NoOpcode('program too long');
    return {
      source: this.form.source,
      ops: Int32Array.from(this.ops),
      consts: Float64Array.from(this.consts),
      liveSlots: Int32Array.from([...this.liveIndex].flatMap(([live, slot]) => [slot, live])),
      maxDepth: this.maxDepth,
    };
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

  /** The consts slot of a live param: never shared with a constant, whatever its value now. */
  private liveSlot(live: number): number {
    let index = this.liveIndex.get(live);
    if (index === undefined) {
      index = this.consts.push(this.form.live.values[live]!) - 1;
      this.liveIndex.set(live, index);
    }
    return index;
  }

  /** Whether `e` is a consts slot's value: a constant, or a live param. */
  private inSlot(e: Expr): boolean {
    return e.kind === 'live' || foldedValue(e) !== undefined;
  }

  private slot(e: Expr): number {
    return e.kind === 'live' ? this.liveSlot(e.index) : this.constSlot(foldedValue(e)!);
  }

  /** Leaves the expression's number on the stack. */
  private num(e: Expr): void {
    const folded = foldedValue(e);
    if (folded !== undefined) return this.emit('const', this.constSlot(folded));
    switch (e.kind) {
      case 'num': // folded above
        throw new Error('internal: an unfolded number');
      case 'state':
      case 'action':
        return this.emit(e.kind, e.index);
      case 'live':
        return this.emit('const', this.liveSlot(e.index));
      case 'neg':
        this.num(e.arg);
        return this.unary('neg');
      case 'arithmetic': {
        const { op, left, right } = e;
        if (op === 'pow') return this.pow(left, right);
        if (op === 'mod') {
          this.num(left);
          this.num(right);
          return this.binary('mod');
        }
        // a + b = b + a and a * b = b * a in IEEE, so a constant left operand rides as well.
        if (this.inSlot(right)) {
          this.num(left);
          return this.unary(WITH_CONSTANT[op].right, this.slot(right));
        }
        if (this.inSlot(left)) {
          this.num(right);
          return this.unary(WITH_CONSTANT[op].left, this.slot(left));
        }
        this.num(left);
        this.num(right);
        return this.binary(op);
      }
      case 'compare':
      case 'not':
      case 'logic':
        return this.test(e);
      case 'conditional':
        this.test(e.test);
        this.num(e.then);
        this.num(e.otherwise);
        return this.emit('select', 0, 3, 1);
      case 'call': {
        const native = e.emit.native;
        if (native === undefined) throw new NoOpcode(`function ${e.name}`);
        const [first, ...rest] = e.args;
        if (native.args === 'fold') {
          // Math.min(a, b, c) folds pairwise: NaN anywhere wins and -0 < +0 either way.
          this.num(first!);
          for (const arg of rest) {
            this.num(arg);
            this.binary(native.op);
          }
          return;
        }
        if (native.args === 'count' && e.args.length > PROGRAM_LIMITS.hypotArgs) throw new NoOpcode(`${e.args.length} arguments`);
        for (const arg of e.args) this.num(arg);
        return this.emit(native.op, native.args === 'count' ? e.args.length : 0, e.args.length, 1);
      }
    }
  }

  /**
   * Leaves a value whose JavaScript truthiness is the expression's truth (1/0 for comparisons
   * and logic, the number itself otherwise); `not`, `and`, `or`, `xor` and `select` read truthiness.
   */
  private test(e: Expr): void {
    switch (e.kind) {
      case 'compare':
        e.ops.forEach((op, i) => {
          this.num(e.args[i]!);
          this.num(e.args[i + 1]!);
          this.binary(op);
          if (i > 0) this.binary('and');
        });
        return;
      case 'not':
        this.test(e.arg);
        return this.unary('not');
      case 'logic':
        this.test(e.left);
        this.test(e.right);
        return this.binary(e.op);
      default:
        return this.num(e);
    }
  }

  /** a ** b: repeated products for a constant integer exponent, else exp(b log|a|) with JavaScript's cases. */
  private pow(a: Expr, b: Expr): void {
    this.num(a);
    const n = foldedValue(b);
    if (n !== undefined && Number.isInteger(n) && Math.abs(n) <= PROGRAM_LIMITS.powi) return this.unary('powi', n);
    this.num(b);
    this.binary('pow');
  }
}
