import { wrapAngle } from '../core/angles.js';
import { expressionForm, type ArithmeticOp, type ComparisonOp, type Expr, type ExpressionForm, type ExpressionScope } from './expression-form.js';

export type { ExpressionScope } from './expression-form.js';

/**
 * Compiles a config expression (a cost term or a task condition) ONCE into batched JavaScript:
 * the planner then runs a plain loop over samples, never an interpreter per sample. The language,
 * its checks and its semantics are those of expression-form.ts; this file only emits.
 *
 * Safety: the generated code is built from fixed fragments, numbers formatted here, and locals
 * named by index (s_<i>, a_<i>, p_<i>), so no user text reaches it and no name can collide with
 * a keyword or with the loop's own variables. Live params are read once at the start of each
 * call, so a value the daemon writes between calls is seen by the next one.
 */

export interface BatchExpression {
  readonly source: string;
  /** The validated form it was emitted from, for the other back-ends. */
  readonly form: ExpressionForm;
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
  return batchExpression(expressionForm(source, scope, fieldPath));
}

export function compileCondition(source: string, scope: ExpressionScope, fieldPath: string): CompiledCondition {
  const form = expressionForm(source, scope, fieldPath);
  const js = new JsEmitter();
  const test = js.test(form.root);
  const body = `
function test(S, A) {
${js.liveReads()}${js.rowReads('S[', 'A[')}  return ${test};
}
return test;`;
  return { source, test: build(body, form) as CompiledCondition['test'] };
}

/** The batched JavaScript of a form. */
export function batchExpression(form: ExpressionForm): BatchExpression {
  const js = new JsEmitter();
  const value = js.num(form.root);
  const offsets =
    (js.reads('state') ? `    const so = k * ${form.stateCount};\n` : '') + (js.reads('action') ? `    const ao = k * ${form.actionCount};\n` : '');
  const live = js.liveReads();
  const body = `
function evaluate(S, A, n, out) {
${live}  for (let k = 0; k < n; k++) {
${offsets}${js.rowReads('S[so + ', 'A[ao + ')}    out[k] = ${value};
  }
}
function accumulate(S, A, n, w, C) {
${live}  let total = 0;
  for (let k = 0; k < n; k++) {
${offsets}${js.rowReads('S[so + ', 'A[ao + ')}    const c = w * ${value};
    C[k] += c;
    total += c;
  }
  return total;
}
function evaluateOne(S, A) {
${live}${js.rowReads('S[', 'A[')}  return ${value};
}
return { evaluate, accumulate, evaluateOne };`;
  const fns = build(body, form) as Omit<BatchExpression, 'source' | 'form'>;
  return { source: form.source, form, evaluate: fns.evaluate, accumulate: fns.accumulate, evaluateOne: fns.evaluateOne };
}

// ---------------------------------------------------------------------------------------------
// Runtime helpers the generated code may call as h_<name> (closed over, so V8 can inline them).

const HELPERS = {
  wrap: wrapAngle,
  square: (x: number): number => x * x,
  smoothabs: (x: number, eps: number): number => Math.sqrt(x * x + eps * eps) - eps,
  /** mathjs mod: floored, result has the divisor's sign, x mod 0 = x. */
  mod: (x: number, y: number): number => (y === 0 ? x : x - y * Math.floor(x / y)),
  /** mathjs rounds halves away from zero; Math.round rounds them up. */
  round: (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x)),
};

function build(body: string, form: ExpressionForm): unknown {
  const prelude = Object.keys(HELPERS).map((name) => `const h_${name} = h.${name};`).join('\n');
  // The body is assembled only from fixed fragments (JsEmitter); running the factory just
  // defines the closures, once per expression. L: the live values, read at each call.
  return new Function('h', 'L', `"use strict";\n${prelude}\n${body}`)(HELPERS, form.live.values);
}

// ---------------------------------------------------------------------------------------------
// Emission: form -> JS expression text.

const ARITHMETIC: Readonly<Record<Exclude<ArithmeticOp, 'mod'>, string>> = { add: '+', sub: '-', mul: '*', div: '/', pow: '**' };
const COMPARISON: Readonly<Record<ComparisonOp, string>> = { lt: '<', gt: '>', le: '<=', ge: '>=', eq: '===', ne: '!==' };

type ReadKind = 'state' | 'action' | 'live';
const LOCAL_PREFIX: Readonly<Record<ReadKind, string>> = { state: 's_', action: 'a_', live: 'p_' };

class JsEmitter {
  /** The locals read, by name: which array and index. */
  private readonly used = new Map<string, { array: ReadKind; index: number }>();

  /** A JS expression that yields a number. */
  num(e: Expr): string {
    switch (e.kind) {
      case 'num':
        return literal(e.value);
      case 'state':
      case 'action':
      case 'live':
        return this.local(e.kind, e.index);
      case 'neg':
        return `(-${this.num(e.arg)})`;
      case 'arithmetic':
        if (e.op === 'mod') return `h_mod(${this.num(e.left)}, ${this.num(e.right)})`;
        return `(${this.num(e.left)} ${ARITHMETIC[e.op]} ${this.num(e.right)})`;
      case 'compare':
      case 'not':
      case 'logic':
        return `(${this.test(e)} ? 1 : 0)`;
      case 'conditional':
        return `(${this.test(e.test)} ? ${this.num(e.then)} : ${this.num(e.otherwise)})`;
      case 'call':
        return e.emit.js(e.args.map((a) => this.num(a)));
    }
  }

  /** A JS expression that yields a boolean: mathjs truthiness, so NaN is false. */
  test(e: Expr): string {
    switch (e.kind) {
      case 'compare':
        return `(${e.ops.map((op, i) => `${this.num(e.args[i]!)} ${COMPARISON[op]} ${this.num(e.args[i + 1]!)}`).join(' && ')})`;
      case 'not':
        return `(!${this.test(e.arg)})`;
      case 'logic': {
        const a = this.test(e.left);
        const b = this.test(e.right);
        return e.op === 'and' ? `(${a} && ${b})` : e.op === 'or' ? `(${a} || ${b})` : `(${a} !== ${b})`;
      }
      default:
        return `(!!${this.num(e)})`;
    }
  }

  reads(array: ReadKind): boolean {
    for (const r of this.used.values()) if (r.array === array) return true;
    return false;
  }

  /** Declarations of the state and action locals, reading `stateAt<index>]` and `actionAt<index>]`. */
  rowReads(stateAt: string, actionAt: string): string {
    let out = '';
    for (const [local, { array, index }] of this.used) {
      if (array !== 'live') out += `    const ${local} = ${array === 'state' ? stateAt : actionAt}${index}];\n`;
    }
    return out;
  }

  /** Declarations of the live-param locals: this call's values. */
  liveReads(): string {
    let out = '';
    for (const [local, { array, index }] of this.used) if (array === 'live') out += `  const ${local} = L[${index}];\n`;
    return out;
  }

  private local(array: ReadKind, index: number): string {
    const local = `${LOCAL_PREFIX[array]}${index}`;
    if (!this.used.has(local)) this.used.set(local, { array, index });
    return local;
  }
}

/** Formats a number we own into a JS literal; the pattern check guards the guarantee. */
function literal(v: number): string {
  const s = Object.is(v, -0) ? '-0' : String(v);
  if (!Number.isFinite(v) || !/^-?[0-9]+(\.[0-9]+)?(e[+-][0-9]+)?$/.test(s)) {
    throw new Error(`internal: cannot format ${s} as a literal`);
  }
  return `(${s})`;
}
