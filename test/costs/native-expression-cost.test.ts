import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { loadConfig } from '../../src/config/load-config.js';
import { MpcdError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { buildTaskCost } from '../../src/costs/build-task-cost.js';
import { compileBatchExpression, type ExpressionScope } from '../../src/costs/expression-compiler.js';
import { ExpressionCost } from '../../src/costs/expression-cost.js';
import { compileExpressionProgram, EXPRESSION_OPCODES, FUNCTIONS_WITHOUT_OPCODE, type ExpressionProgram } from '../../src/costs/expression-program.js';
import { expressionCostTerm, NativeExpressionCost } from '../../src/costs/native-expression-cost.js';
import { LiveParamValues } from '../../src/costs/task-params.js';
import { buildAnalyticModel } from '../../src/models/build-model.js';
import { kernelsOrSkip } from '../native-kernels-or-skip.js';


const scope: ExpressionScope = {
  stateNames: ['x', 'theta', 'x_dot', 'theta_dot'],
  actionNames: ['u', 'f'],
  params: { m: 1.5, target: 0.3, gain: -2 },
};
const NX = 4;
const NU = 2;
/** Doubles throughout on both sides: an ulp or two of a double apart, then float32 rounding. */
const TOL = 1e-6;

/** Every operator and function with an opcode, and the JavaScript compiler's own test expressions. */
const EXPRESSIONS = [
  '10*(1 - cos(theta)) + 1*x^2 + 0.1*x_dot^2 + 0.01*u^2 + 0.01*theta_dot^2',
  'wrap(theta)^2 + 3*wrap(theta - pi) + wrap(7*theta_dot) + wrap(1e6 * x)',
  'clamp(x, -0.5, target) * gain + clamp(u, -1, 1)',
  'x > 0 ? x_dot : -theta_dot',
  '(x > 0 ? 1 : u < 0 ? 2 : 3) * m',
  'abs(x) < 1 and theta_dot >= 0 or not (u <= f)',
  '2x + 3theta u - 2 pi f',
  '-x^2 + (-x)^2 + -u^3 + 2^-x + x^2^1',
  'x % 0.7 + (theta mod -1.3) + (f % 2) + (x mod u) + (x mod 0) + (x mod (u * 0))',
  'sqrt(x^2 + 1) + log(1 + u^2) + log(x^2 + 2, 3) + exp(-x^2) + log10(2 + sin(x)) + log2(3 + cos(u))',
  'min(x, u, theta) * max(x, u) + min(f) + hypot(x, theta, u) + sign(u) + floor(3x) + ceil(2u) + round(4x)',
  'pow(abs(x), 1.5) + square(u - target) + smoothabs(x, 0.1) - m*e + tau*pi',
  '(x > 0 xor u > 0) + (x == x) + (x != x) + (x <= u) + (x >= u) + (x < u) + (x == round(x))',
  '(0 < x < 1) + (-1 <= u < 0.5 <= f)',
  'true + (false ? 1 : 2) + (x > 0) + 50% * x',
  '42',
  'tan(x) / 100 + exp(x_dot) + sin(1e5 * theta) + cos(3e7 * theta)',
  'pow(x, u) + abs(x)^theta + (-2)^u + x^(1/3) + 2^(x * 400) + u^-0.5',
  '1/x + 2/u - 3 - x + (x - 3) + x / 4 + 4 / (x + 1) + (1 + 2) * x_dot - (-target)',
  'x^-2 + u^0 + x^1 + theta^7 + x^-1 + (u * 0)^-1 + (u * 0)^-2 + theta^40',
  'hypot(x) + hypot(x, u) + hypot(x * 1e300, u * 1e300) / 1e300 + hypot(0, 0 * x)',
  '1 / min(x * 0, -0) + 1 / max(-0, x * 0) + min(x, sqrt(u)) + max(sqrt(u), x)',
  'floor(-x) + ceil(-x) + round(-x) + sign(-x * 0) + 1 / floor(x * 0) + 1 / ceil(-0.5 * abs(x)) + 1 / round(-0.3 * abs(x))',
  'log(x) + log2(x) + log10(x) + sqrt(x) + log(x * 0) + log2(abs(x) * 1e-310) + log10(abs(x) * 1e300 * 1e300)',
  'exp(1000 * x) + exp(-1000 * x) + exp(x * 0) + exp(1e-12 * x)',
  '(not x) + (not u) + (x and not u) + (theta ? x : u) + (sqrt(x) ? 1 : 2) + (sqrt(x) and 1) + (sqrt(x) or 0) + (sqrt(x) xor 1)',
  'sin(x) / cos(x) - tan(x) + sin(-0 * x) + 1 / sin(-0 * abs(x))',
];

/** A batch of typical values, with zeros, ties and signed zeros mixed in. */
function randomBatch(seed: number, count: number): { states: Float32Array; actions: Float32Array } {
  const rng = new Rng(seed);
  const special = [0, -0, 0.5, -0.5, 1.5, -2.5, 1, -1];
  const value = (): number => (rng.uniform() < 0.1 ? special[Math.floor(rng.uniform() * special.length)]! : 3 * (2 * rng.uniform() - 1));
  return { states: Float32Array.from({ length: count * NX }, value), actions: Float32Array.from({ length: count * NU }, value) };
}

function close(got: number, want: number): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want) || want === 0) return Object.is(got, want) || Math.abs(got - want) <= TOL;
  return Math.abs(got - want) <= TOL * Math.max(1, Math.abs(want));
}

function program(source: string): ExpressionProgram {
  const p = compileExpressionProgram(source, scope);
  assert.ok(p !== undefined, `no program for ${source}`);
  return p;
}

describe('expression programs', () => {
  it('use every opcode across the test expressions', () => {
    const used = new Set<number>();
    for (const source of EXPRESSIONS) {
      const { ops } = program(source);
      for (let i = 0; i < ops.length; i += 2) used.add(ops[i]!);
    }
    const unused = EXPRESSION_OPCODES.filter((_, code) => !used.has(code));
    assert.deepEqual(unused, []);
  });

  it('have no program for the functions without an opcode, nor past the kernel stack', () => {
    for (const fn of FUNCTIONS_WITHOUT_OPCODE) {
      const source = fn === 'atan2' ? 'x + atan2(x, u)' : `x + ${fn}(u / 4)`;
      compileBatchExpression(source, scope, 'test'); // valid for the JavaScript compiler
      assert.equal(compileExpressionProgram(source, scope), undefined, source);
    }
    const deep = `${'x + ('.repeat(40)}u${')'.repeat(40)}`;
    assert.equal(compileExpressionProgram(deep, scope), undefined);
    assert.ok(compileExpressionProgram(`${'x + ('.repeat(20)}u${')'.repeat(20)}`, scope) !== undefined);
  });

  it('fold constant arithmetic and carry constants in the instruction', () => {
    const p = program('(1 + 2) * x - 2^3 + 10 / u');
    const names = [...p.ops].filter((_, i) => i % 2 === 0).map((c) => EXPRESSION_OPCODES[c]);
    assert.deepEqual(names, ['state', 'mulc', 'subc', 'action', 'rdivc', 'add']);
    assert.deepEqual([...p.consts], [3, 8, 10]);
  });

  it('match the opcodes the loaded addon runs', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    assert.equal(kernels.expressionOpcodes(), EXPRESSION_OPCODES.join(','));
  });
});

describe('native evalExpression', () => {
  it('writes the values of the JavaScript compiled expressions (float32), for every expression', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const count = 300; // four blocks of 64 and a tail
    const { states, actions } = randomBatch(1, count);
    for (const source of EXPRESSIONS) {
      const p = program(source);
      const want = new Float32Array(count);
      compileBatchExpression(source, scope, 'test').evaluate(states, actions, count, want);
      const got = new Float32Array(count + 2).fill(-7);
      kernels.evalExpression(p.ops, p.consts, states, NX, actions, NU, count, 1, got, 1);
      for (let k = 0; k < count; k++) assert.ok(close(got[k]!, want[k]!), `${source} at ${k}: native ${got[k]}, JavaScript ${want[k]}`);
      assert.deepEqual([...got.subarray(count)], [-7, -7], source);
    }
  });

  it('accumulates weight * value and returns the total, as the JavaScript accumulate', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    for (const count of [0, 1, 63, 64, 65, 200]) {
      const { states, actions } = randomBatch(2 + count, count);
      for (const source of EXPRESSIONS.slice(0, 6)) {
        const p = program(source);
        const start = Float32Array.from({ length: count }, (_, k) => k % 7);
        const want = start.slice();
        const wantTotal = compileBatchExpression(source, scope, 'test').accumulate(states, actions, count, 2.5, want);
        const got = start.slice();
        const total: number = kernels.evalExpression(p.ops, p.consts, states, NX, actions, NU, count, 2.5, got, 0);
        for (let k = 0; k < count; k++) assert.ok(close(got[k]!, want[k]!), `${source} at ${k}: ${got[k]} vs ${want[k]}`);
        assert.ok(Math.abs(total - wantTotal) <= 1e-9 * Math.max(1, Math.abs(wantTotal)), `${source}, count ${count}: total ${total} vs ${wantTotal}`);
        // The same through totalOut, the planner's allocation-free form.
        const again = start.slice();
        const totalOut = new Float64Array(1);
        assert.equal(kernels.evalExpression(p.ops, p.consts, states, NX, actions, NU, count, 2.5, again, 0, totalOut), undefined);
        assert.deepEqual(again, got);
        assert.equal(totalOut[0], total);
      }
    }
  });

  it('reads states of any width (gathered) and actions of any width', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const wide: ExpressionScope = { stateNames: ['a', 'b', 'c', 'd', 'e'], actionNames: ['u'], params: {} };
    const rng = new Rng(9);
    const count = 130;
    const states = Float32Array.from({ length: count * 5 }, () => rng.uniform() - 0.5);
    const actions = Float32Array.from({ length: count }, () => rng.uniform());
    for (const source of ['a + 2 b + 3 c + 4 d + 5 e + 6 u', 'e * u - cos(a)']) {
      const p = compileExpressionProgram(source, wide)!;
      const want = new Float32Array(count);
      compileBatchExpression(source, wide, 'test').evaluate(states, actions, count, want);
      const got = new Float32Array(count);
      kernels.evalExpression(p.ops, p.consts, states, 5, actions, 1, count, 1, got, 1);
      for (let k = 0; k < count; k++) assert.ok(close(got[k]!, want[k]!), `${source} at ${k}: ${got[k]} vs ${want[k]}`);
    }
  });

  it('rejects bad programs and arguments with TypeError or RangeError', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const code = (name: string): number => EXPRESSION_OPCODES.indexOf(name as never);
    const states = new Float32Array(8);
    const actions = new Float32Array(4);
    const costs = new Float32Array(2);
    const consts = Float64Array.of(1);
    const call = (...args: unknown[]): number => (kernels.evalExpression as (...x: unknown[]) => number)(...args);
    const ok = Int32Array.of(code('state'), 1, code('addc'), 0);
    assert.equal(call(ok, consts, states, 4, actions, 2, 2, 1, costs, 1), 2);
    const badPrograms: [ops: Int32Array, message: RegExp][] = [
      [new Int32Array(0), /1 to 1024 \[opcode, operand\] pairs/],
      [Int32Array.of(code('state')), /pairs/],
      [Int32Array.of(999, 0), /unknown opcode 999/],
      [Int32Array.of(code('const'), 1), /not an index of consts/],
      [Int32Array.of(code('state'), 4), /not a state index/],
      [Int32Array.of(code('action'), -1), /not an action index/],
      [Int32Array.of(code('state'), 0, code('mulc'), 3), /not an index of consts/],
      [Int32Array.of(code('add'), 0), /needs 2 values on the stack, it holds 0/],
      [Int32Array.of(code('state'), 0, code('state'), 1), /leaves 2 values/],
      [Int32Array.of(code('state'), 0, code('powi'), 5000), /exponent/],
      [Int32Array.of(code('state'), 0, code('hypot'), 0), /argument count/],
      [Int32Array.from({ length: 66 }, (_, i) => (i % 2 === 0 ? code('state') : 0)), /stack grows past 32/],
    ];
    for (const [ops, message] of badPrograms) {
      assert.throws(() => call(ops, consts, states, 4, actions, 2, 2, 1, costs, 1), (err: unknown) => err instanceof RangeError && message.test(err.message), String(message));
    }
    const bad: [args: unknown[], error: RangeErrorConstructor | TypeErrorConstructor, message: RegExp][] = [
      [[ok, consts, states, 4, actions, 2, 2, 1, costs], TypeError, /expects 10 to 11 arguments/],
      [[ok, consts, states, 4, actions, 2, 2, 1, costs, 1, new Float64Array(0)], RangeError, /totalOut must hold 1 number/],
      [[ok, consts, states, 4, actions, 2, 2, 1, costs, 1, [0]], TypeError, /totalOut must be a Float64Array/],
      [[[1, 0], consts, states, 4, actions, 2, 2, 1, costs, 1], TypeError, /ops must be an Int32Array/],
      [[ok, [1], states, 4, actions, 2, 2, 1, costs, 1], TypeError, /consts must be a Float64Array/],
      [[ok, consts, states, 4, actions, 2, 3, 1, new Float32Array(3), 1], RangeError, /states too short/],
      [[ok, consts, states, 4, actions.subarray(1), 2, 2, 1, costs, 1], RangeError, /actions too short/],
      [[ok, consts, states, 4, actions, 2, 2, 1, costs.subarray(1), 1], RangeError, /costs too short/],
      [[ok, consts, states, 4, actions, 2, 2, '1', costs, 1], TypeError, /weight must be a number/],
      [[ok, consts, states, 4, actions, 2, 2, 1, costs, 2], RangeError, /mode/],
      [[ok, consts, states, 4, actions, 2, 2, 1, states.subarray(0, 2), 1], RangeError, /must not share memory/],
    ];
    for (const [args, error, message] of bad) {
      assert.throws(() => call(...args), (err: unknown) => err instanceof error && message.test((err as Error).message), String(message));
    }
  });
});

describe('NativeExpressionCost', () => {
  const spec = { name: 'swingup', expr: '10*(1 - cos(theta)) + 0.1*x^2 + 0.01*u^2', weight: 2, terminal_weight: 5 };

  it('adds what ExpressionCost adds, running and terminal', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const native = expressionCostTerm(spec, scope, 'task.cost[0].expr', kernels);
    assert.ok(native instanceof NativeExpressionCost);
    const js = new ExpressionCost(spec, scope, 'task.cost[0].expr');
    assert.equal(native.name, 'swingup');
    const count = 77;
    const { states, actions } = randomBatch(6, count);
    for (const which of ['addRunning', 'addTerminal'] as const) {
      const a = new Float32Array(count).fill(1);
      const b = new Float32Array(count).fill(1);
      const ta = native[which](states, actions, count, a);
      const tb = js[which](states, actions, count, b);
      for (let k = 0; k < count; k++) assert.ok(close(a[k]!, b[k]!), `${which} at ${k}: ${a[k]} vs ${b[k]}`);
      assert.ok(Math.abs(ta - tb) <= 1e-9 * Math.abs(tb), `${which}: ${ta} vs ${tb}`);
    }
    assert.equal(native.expression.evaluateOne([0, Math.PI, 0, 0], [0, 0]), 20);
  });

  it('skips the work when a weight is 0', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const cost = expressionCostTerm({ ...spec, weight: 0, terminal_weight: 0 }, scope, 'task.cost[0].expr', kernels);
    const { states, actions } = randomBatch(7, 8);
    const costs = new Float32Array(8).fill(3);
    assert.equal(cost.addRunning(states, actions, 8, costs), 0);
    assert.equal(cost.addTerminal(states, actions, 8, costs), 0);
    assert.ok(costs.every((c) => c === 3));
  });

  it('falls back to ExpressionCost for functions without an opcode, and with MPCD_NO_NATIVE=1', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const fallback = expressionCostTerm({ ...spec, expr: 'atan(x) + cos(theta)' }, scope, 'task.cost[0].expr', kernels);
    assert.ok(fallback instanceof ExpressionCost);
    const saved = process.env.MPCD_NO_NATIVE;
    try {
      process.env.MPCD_NO_NATIVE = '1';
      assert.ok(expressionCostTerm(spec, scope, 'task.cost[0].expr') instanceof ExpressionCost);
      delete process.env.MPCD_NO_NATIVE;
      assert.ok(expressionCostTerm(spec, scope, 'task.cost[0].expr') instanceof NativeExpressionCost);
    } finally {
      if (saved === undefined) delete process.env.MPCD_NO_NATIVE;
      else process.env.MPCD_NO_NATIVE = saved;
    }
  });

  it('reports bad expressions and weights as ExpressionCost does', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    assert.throws(
      () => expressionCostTerm({ ...spec, expr: 'cos(thetta)' }, scope, 'task.cost[1].expr', kernels),
      (err: unknown) => err instanceof MpcdError && err.code === 'CONFIG_EXPRESSION' && err.message.startsWith('task.cost[1].expr: unknown name "thetta"'),
    );
    assert.throws(() => expressionCostTerm({ ...spec, weight: Number.NaN }, scope, 'task.cost[1].expr', kernels), /cost "swingup": weight must be a finite number/);
  });

  it('is what buildTaskCost makes of an expression term where the addon loads', async (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const saved = process.env.MPCD_NO_NATIVE;
    try {
      delete process.env.MPCD_NO_NATIVE;
      const config = (await loadConfig(join(import.meta.dirname, '..', '..', '..', 'config', 'cartpole-swingup.yaml'))).config;
      const cost = buildTaskCost(config, buildAnalyticModel(config, 1));
      assert.ok(cost.terms[0] instanceof NativeExpressionCost);
    } finally {
      if (saved !== undefined) process.env.MPCD_NO_NATIVE = saved;
    }
  });
});

describe('live params in native programs', () => {
  // `target` and `gain` made live: the programs read them from consts slots rewritten per call.
  const live = new LiveParamValues({ params: { target: { default: 0.3, live: true }, gain: { default: 2, live: true } } });
  const liveScope: ExpressionScope = { ...scope, params: { m: 1.5 }, live };
  const constantScope = (target: number, gain: number): ExpressionScope => ({ ...scope, params: { m: 1.5, target, gain } });
  const opNames = (p: ExpressionProgram): string[] => [...p.ops].filter((_, i) => i % 2 === 0).map((c) => EXPRESSION_OPCODES[c]!);

  it('get consts slots of their own: never folded, never shared with an equal constant, never a powi exponent', () => {
    const p = compileExpressionProgram('x^gain + (1 + target) * x + 0.3 * u + target * 2 + target', liveScope)!;
    assert.ok(p !== undefined);
    const slots = [...p.liveSlots];
    assert.equal(slots.length, 4, 'one slot per live param used, however often');
    const slotOf = new Map([[slots[1]!, slots[0]!], [slots[3]!, slots[2]!]]);
    assert.deepEqual([...slotOf.keys()].sort(), [0, 1]);
    assert.equal(p.consts[slotOf.get(0)!], 0.3);
    assert.equal(p.consts[slotOf.get(1)!], 2);
    // 0.3 and 2 appear as constants too, in slots of their own.
    assert.equal([...p.consts].filter((c) => c === 0.3).length, 2);
    assert.equal([...p.consts].filter((c) => c === 2).length, 2);
    const names = opNames(p);
    assert.ok(names.includes('pow') && !names.includes('powi'), names.join(' '));
    // With constants, the same expression folds and multiplies out.
    const folded = opNames(compileExpressionProgram('x^gain + (1 + target) * x + 0.3 * u + target * 2 + target', constantScope(0.3, 2))!);
    assert.ok(folded.includes('powi') && !folded.includes('pow'), folded.join(' '));
    assert.equal(compileExpressionProgram('x + 1', liveScope)!.liveSlots.length, 0);
  });

  const USING_LIVE = [
    ...EXPRESSIONS,
    '(x - target)^2 + gain * u + x^gain + target * 2 + 3 * target - target / 4 + 4 / target + target - 1 + 1 - target',
    'x > target ? target : gain',
    '(1 + target) * (gain - 1) + pow(target, 2) + (-target)^3 + hypot(target, x) + min(gain, x)',
  ];

  it('NativeExpressionCost adds what ExpressionCost with the values as constants adds, and follows a change at the next call', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const count = 130;
    const { states, actions } = randomBatch(11, count);
    for (const source of USING_LIVE) {
      const spec = { name: 'c', expr: source, weight: 1.5, terminal_weight: 0.5 };
      const native = expressionCostTerm(spec, liveScope, 'task.cost[0].expr', kernels);
      assert.ok(native instanceof NativeExpressionCost, source);
      for (const [target, gain] of [[0.3, 2], [-0.7, 1.25], [1.5, -3]] as const) {
        live.values[0] = target;
        live.values[1] = gain;
        const js = new ExpressionCost(spec, constantScope(target, gain), 'task.cost[0].expr');
        for (const which of ['addRunning', 'addTerminal'] as const) {
          const a = new Float32Array(count);
          const b = new Float32Array(count);
          native[which](states, actions, count, a);
          js[which](states, actions, count, b);
          for (let k = 0; k < count; k++) assert.ok(close(a[k]!, b[k]!), `${source}, ${which}, target=${target} gain=${gain}, at ${k}: native ${a[k]}, JavaScript ${b[k]}`);
        }
      }
    }
    live.reset();
  });
});
