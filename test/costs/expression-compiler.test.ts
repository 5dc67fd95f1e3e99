import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { all, create } from 'mathjs';
import { MpcdError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { compileBatchExpression, compileCondition, type ExpressionScope } from '../../src/costs/expression-compiler.js';
import { ExpressionCost } from '../../src/costs/expression-cost.js';
import { LiveParamValues } from '../../src/costs/task-params.js';

const scope: ExpressionScope = {
  stateNames: ['x', 'theta', 'x_dot', 'theta_dot'],
  actionNames: ['u', 'f'],
  params: { m: 1.5, target: 0.3, gain: -2 },
};
const NX = 4;
const NU = 2;
const FIELD = 'task.cost[0].expr';

// The reference: mathjs itself, with mpcd's extra functions written independently of the compiler.
assert.ok(all, 'mathjs exports its factories as `all`');
const math = create(all);
math.import({
  wrap: (a: number) => Math.atan2(Math.sin(a), Math.cos(a)),
  clamp: (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x),
  smoothabs: (x: number, eps: number) => Math.hypot(x, eps) - eps,
});

function reference(source: string, state: ArrayLike<number>, action: ArrayLike<number>): number {
  const vars: Record<string, number> = { ...scope.params };
  scope.stateNames.forEach((n, i) => (vars[n] = state[i]!));
  scope.actionNames.forEach((n, i) => (vars[n] = action[i]!));
  const v: unknown = math.evaluate(source, vars);
  if (typeof v === 'boolean') return v ? 1 : 0;
  assert.equal(typeof v, 'number', `mathjs gave a non-number for ${source}: ${String(v)}`);
  return v as number;
}

function randomBatch(seed: number, count: number, scale = 3): { states: Float32Array; actions: Float32Array } {
  const rng = new Rng(seed);
  const states = Float32Array.from({ length: count * NX }, () => scale * (2 * rng.uniform() - 1));
  const actions = Float32Array.from({ length: count * NU }, () => scale * (2 * rng.uniform() - 1));
  return { states, actions };
}

const row = (a: Float32Array, k: number, n: number): Float32Array => a.subarray(k * n, (k + 1) * n);

const EXPRESSIONS = [
  '10*(1 - cos(theta)) + 0.1*x^2 + 0.01*u^2',
  'wrap(theta)^2 + 3*wrap(theta - pi) + wrap(7*theta_dot)',
  'clamp(x, -0.5, target) * gain + clamp(u, -1, 1)',
  'x > 0 ? x_dot : -theta_dot',
  '(x > 0 ? 1 : u < 0 ? 2 : 3) * m',
  'abs(x) < 1 and theta_dot >= 0 or not (u <= f)',
  '2x + 3theta u - 2 pi f',
  '-x^2 + (-x)^2 + -u^3 + 2^-x + x^2^1',
  'x % 0.7 + (theta mod -1.3) + (f % 2)',
  'sqrt(x^2 + 1) + log(1 + u^2) + log(x^2 + 2, 3) + exp(-x^2) + log10(2 + sin(x)) + log2(3 + cos(u))',
  'atan2(theta, x) + atan(x) + asin(sin(x)) + acos(cos(u)) + tanh(x) + sinh(u)/10 + cosh(x_dot)/10 + tan(x)/100',
  'min(x, u, theta) * max(x, u) + min(f) + hypot(x, theta, u) + cbrt(x) + sign(u) + floor(3x) + ceil(2u) + round(4x)',
  'pow(abs(x), 1.5) + square(u - target) + smoothabs(x, 0.1) - m*e + tau*pi',
  '(x > 0 xor u > 0) + (x == x) + (x != x) + (x <= u) + (x >= u)',
  '(0 < x < 1) + (-1 <= u < 0.5 <= f)',
  'true + (false ? 1 : 2) + (x > 0) + 50% * x',
  '42',
];

describe('compileBatchExpression', () => {
  it('matches mathjs evaluate on random states', () => {
    const count = 64;
    const { states, actions } = randomBatch(1, count);
    for (const source of EXPRESSIONS) {
      const expr = compileBatchExpression(source, scope, FIELD);
      assert.equal(expr.source, source);
      for (let k = 0; k < count; k++) {
        const s = row(states, k, NX);
        const a = row(actions, k, NU);
        const want = reference(source, s, a);
        const got = expr.evaluateOne(s, a);
        assert.ok(Math.abs(got - want) <= 1e-9 * (1 + Math.abs(want)), `${source} at k=${k}: got ${got}, mathjs ${want}`);
      }
    }
  });

  it('matches mathjs at edge values: rounding ties, mod by zero and negatives, sign of zero', () => {
    const sources = ['round(x)', 'x % u', 'x mod u', 'sign(x)', 'floor(x) + ceil(u)', 'x^round(u)', 'min(x, u) - max(x, u)'];
    const values = [-2.5, -1.5, -0.5, 0, 0.5, 1.5, 2.5, -3, 3];
    for (const source of sources) {
      const expr = compileBatchExpression(source, scope, FIELD);
      for (const x of values) {
        for (const u of values) {
          const want = reference(source, [x, 0, 0, 0], [u, 0]);
          const got = expr.evaluateOne([x, 0, 0, 0], [u, 0]);
          if (!Number.isFinite(want)) assert.ok(Object.is(got, want), `${source} with x=${x} u=${u}: got ${got}, mathjs ${want}`);
          else assert.ok(Math.abs(got - want) <= 1e-12 * (1 + Math.abs(want)), `${source} with x=${x} u=${u}: got ${got}, mathjs ${want}`);
        }
      }
    }
  });

  it('gives NaN where mathjs would leave the real numbers', () => {
    for (const source of ['sqrt(x)', 'log(x)', 'x^0.5', 'asin(x - 2)']) {
      assert.ok(Number.isNaN(compileBatchExpression(source, scope, FIELD).evaluateOne([-1, 0, 0, 0], [0, 0])), source);
    }
  });

  it('batch evaluate equals evaluateOne and leaves samples past count alone', () => {
    const count = 100;
    const { states, actions } = randomBatch(2, count);
    for (const source of EXPRESSIONS) {
      const expr = compileBatchExpression(source, scope, FIELD);
      const out = new Float32Array(count + 3).fill(-7);
      expr.evaluate(states, actions, count, out);
      for (let k = 0; k < count; k++) {
        const one = expr.evaluateOne(row(states, k, NX), row(actions, k, NU));
        assert.ok(Object.is(out[k], Math.fround(one)), `${source} at k=${k}: batch ${out[k]}, one ${one}`);
      }
      assert.deepEqual([...out.subarray(count)], [-7, -7, -7]);
    }
  });

  it('accumulate adds weight * value in place and returns the sum added', () => {
    const count = 50;
    const { states, actions } = randomBatch(3, count);
    const expr = compileBatchExpression('10*(1 - cos(theta)) + 0.1*x^2 + 0.01*u^2', scope, FIELD);
    const costs = new Float32Array(count).fill(1);
    const total = expr.accumulate(states, actions, count, 2.5, costs);
    let want = 0;
    for (let k = 0; k < count; k++) {
      const added = 2.5 * expr.evaluateOne(row(states, k, NX), row(actions, k, NU));
      want += added;
      assert.equal(costs[k], Math.fround(1 + added));
    }
    assert.ok(Math.abs(total - want) <= 1e-9 * Math.abs(want));
    assert.equal(expr.accumulate(states, actions, 0, 2.5, costs), 0);
  });

  it('lets user names shadow the constants pi, e, tau', () => {
    const expr = compileBatchExpression('e + pi', { stateNames: ['e'], actionNames: [], params: {} }, FIELD);
    assert.equal(expr.evaluateOne([2], []), 2 + Math.PI);
  });

  it('rejects forbidden constructs with CONFIG_EXPRESSION naming the field and the culprit', () => {
    const cases: [source: string, culprit: string][] = [
      ['import("fs")', '"import"'],
      ['f(x) = 1', '"f"'],
      ['x = 3', '"x"'],
      ['a[1]', 'a[1]'],
      ['x[1]', 'x[1]'],
      ['"str"', 'str'],
      ["'str' + 1", 'str'],
      ['{a:1}', '"a"'],
      ['[1, 2]', '[1, 2]'],
      ['1:3', '1:3'],
      ['x; u', 'x; u'],
      ['evaluate("1")', '"evaluate"'],
      ['thetta + 1', '"thetta"'],
      ['frobnicate(x)', '"frobnicate"'],
      ['sin(x, u)', '"sin"'],
      ['clamp(x, 1)', '"clamp"'],
      ['atan2(x)', '"atan2"'],
      ['max()', '"max"'],
      ['theta(2)', '"theta"'],
      ['sin + 1', '"sin"'],
      ['x!', '"!"'],
      ["x'", "\"'\""],
      ['x & 1', '"&"'],
      ['x to cm', '"to"'],
      ['null', 'null'],
      ['Infinity', 'Infinity'],
      ['NaN', 'NaN'],
      ['', 'empty'],
    ];
    for (const [source, culprit] of cases) {
      assert.throws(
        () => compileBatchExpression(source, scope, FIELD),
        (err: unknown) => {
          assert.ok(err instanceof MpcdError, `${source}: not an MpcdError`);
          assert.equal(err.code, 'CONFIG_EXPRESSION');
          assert.ok(err.message.startsWith(`${FIELD}: `), `${source}: ${err.message}`);
          assert.ok(err.message.includes(culprit), `${source}: message lacks ${culprit}: ${err.message}`);
          return true;
        },
        source,
      );
    }
  });

  it('lists the known names for an unknown one, and points at parse errors', () => {
    assert.throws(
      () => compileBatchExpression('10*(1-cos(thetta))', scope, FIELD),
      (err: MpcdError) =>
        err.message.includes('unknown name "thetta"') &&
        err.message.includes('did you mean "theta"') &&
        err.message.includes('known names: x, theta, x_dot, theta_dot, u, f, pi, e, tau; params: m, target, gain'),
    );
    assert.throws(
      () => compileBatchExpression('x +', scope, FIELD),
      (err: MpcdError) => err.code === 'CONFIG_EXPRESSION' && err.message.includes(FIELD) && err.message.includes('char 4'),
    );
  });

  it('rejects injection through names and scope', () => {
    const g = globalThis as { __mpcdPwned?: boolean };
    g.__mpcdPwned = false;
    const attempts = [
      'constructor',
      '__proto__',
      'process',
      'globalThis',
      'this',
      'Function',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'h',
      'S',
      'k',
      'v_x',
      'h_wrap',
      'Math',
      'constructor(1)',
      '__proto__(1)',
      'process.exit(1)',
      'toString(x)',
      'hasOwnProperty("x")',
      'Function("globalThis.__mpcdPwned = true")()',
      '__mpcdPwned = true',
      'x.constructor.constructor("globalThis.__mpcdPwned = true")()',
    ];
    for (const source of attempts) {
      assert.throws(
        () => compileBatchExpression(source, scope, FIELD),
        (err: unknown) => err instanceof MpcdError && err.code === 'CONFIG_EXPRESSION',
        source,
      );
      assert.throws(() => compileCondition(source, scope, FIELD), MpcdError, source);
    }
    const badScopes: ExpressionScope[] = [
      { stateNames: ['x; globalThis.__mpcdPwned = true; let y'], actionNames: [], params: {} },
      { stateNames: ['x'], actionNames: ['u) { globalThis.__mpcdPwned = true }; ('], params: {} },
      { stateNames: ['x'], actionNames: [], params: { p: '1; globalThis.__mpcdPwned = true' as unknown as number } },
      { stateNames: ['x'], actionNames: [], params: { p: Number.NaN } },
      { stateNames: ['x'], actionNames: ['x'], params: {} },
      { stateNames: ['x'], actionNames: [], params: { x: 1 } },
    ];
    for (const bad of badScopes) {
      assert.throws(() => compileBatchExpression('x', bad, FIELD), (err: unknown) => err instanceof MpcdError && err.code === 'CONFIG_EXPRESSION');
    }
    assert.equal(g.__mpcdPwned, false);
    delete g.__mpcdPwned;
  });
});

describe('live params', () => {
  // `target` and `gain` made live: the same expressions, the values read at each call.
  const live = new LiveParamValues({ params: { target: { default: 0.3, live: true }, gain: { default: -2, live: true } } });
  const liveScope: ExpressionScope = { ...scope, params: { m: 1.5 }, live };
  const constantScope = (target: number, gain: number): ExpressionScope => ({ ...scope, params: { m: 1.5, target, gain } });
  const USING_LIVE = [
    ...EXPRESSIONS,
    '(x - target)^2 + gain * u + x^gain + target * 2 + 3 * target - target / 4',
    'x > target ? target : gain',
    '(1 + target) * (gain - 1) + pow(target, 2) + (-target)^3',
  ];

  it('evaluate, accumulate and evaluateOne give what the same expression with constant params gives, and follow a change at the next call', () => {
    const count = 40;
    const { states, actions } = randomBatch(5, count);
    for (const source of USING_LIVE) {
      const expr = compileBatchExpression(source, liveScope, FIELD);
      for (const [target, gain] of [[0.3, -2], [-0.7, 1.25], [2, 0]] as const) {
        live.values[0] = target;
        live.values[1] = gain;
        const want = compileBatchExpression(source, constantScope(target, gain), FIELD);
        const [a, b] = [new Float32Array(count), new Float32Array(count)];
        expr.evaluate(states, actions, count, a);
        want.evaluate(states, actions, count, b);
        assert.deepEqual(a, b, `${source} with target=${target} gain=${gain}`);
        const [ca, cb] = [new Float32Array(count).fill(1), new Float32Array(count).fill(1)];
        assert.equal(expr.accumulate(states, actions, count, 0.5, ca), want.accumulate(states, actions, count, 0.5, cb));
        assert.deepEqual(ca, cb);
        const s = row(states, 3, NX);
        const u = row(actions, 3, NU);
        assert.ok(Object.is(expr.evaluateOne(s, u), want.evaluateOne(s, u)), source);
      }
    }
    live.reset();
  });

  it('compileCondition reads them at each test', () => {
    const cond = compileCondition('abs(x - target) < 0.1', liveScope, 'task.success');
    live.values[0] = 0.3;
    assert.equal(cond.test([0.35, 0, 0, 0], [0, 0]), true);
    live.values[0] = -0.5;
    assert.equal(cond.test([0.35, 0, 0, 0], [0, 0]), false);
    assert.equal(cond.test([-0.45, 0, 0, 0], [0, 0]), true);
    live.reset();
  });

  it('are read through a view on shared memory, as rollout workers share it', () => {
    const shared = new LiveParamValues({ params: { target: { default: 0.3, live: true }, gain: { default: -2, live: true } } }, live.buffer);
    const expr = compileBatchExpression('x - target', { ...scope, params: { m: 1.5 }, live: shared }, FIELD);
    assert.equal(live.set('target', 1.5), undefined);
    assert.equal(expr.evaluateOne([2, 0, 0, 0], [0, 0]), 0.5);
    live.reset();
  });
});

describe('compileCondition', () => {
  const success = compileCondition('abs(wrap(theta)) < 0.2 and abs(x) < 0.5', scope, 'task.success');

  it('checks the swing-up success condition', () => {
    const table: [x: number, theta: number, want: boolean][] = [
      [0, 0, true],
      [0.4, 0.1, true],
      [-0.4, -0.19, true],
      [0.6, 0, false],
      [-0.6, 0, false],
      [0, 0.3, false],
      [0, 2 * Math.PI + 0.1, true],
      [0, -2 * Math.PI - 0.1, true],
      [0, Math.PI, false],
      [Number.NaN, 0, false],
    ];
    for (const [x, theta, want] of table) assert.equal(success.test([x, theta, 0, 0], [0, 0]), want, `x=${x} theta=${theta}`);
    assert.equal(success.source, 'abs(wrap(theta)) < 0.2 and abs(x) < 0.5');
  });

  it('follows mathjs truth tables for and, or, xor, not, and chained comparisons', () => {
    const sources = ['x and u', 'x or u', 'x xor u', 'not x', 'x', 'x ? 1 : 0', '0 < x <= 1', 'x == u', 'x != u', '(x > 0.5) == (u > 0.5)'];
    const values = [0, 1, -2, 0.5, Number.NaN];
    for (const source of sources) {
      const cond = compileCondition(source, scope, 'task.success');
      for (const x of values) {
        for (const u of values) {
          const want = Boolean(math.evaluate(source, { ...scope.params, x, u, theta: 0, x_dot: 0, theta_dot: 0, f: 0 }));
          assert.equal(cond.test([x, 0, 0, 0], [u, 0]), want, `${source} with x=${x} u=${u}`);
        }
      }
    }
  });
});

describe('ExpressionCost', () => {
  const { states, actions } = randomBatch(4, 8);
  const spec = { name: 'swingup', expr: '10*(1 - cos(theta)) + 0.1*x^2 + 0.01*u^2', weight: 2, terminal_weight: 5 };

  it('adds weight * value per step and terminal_weight * value at the end', () => {
    const cost = new ExpressionCost(spec, scope, 'task.cost[0].expr');
    assert.equal(cost.name, 'swingup');
    const running = new Float32Array(8);
    const terminal = new Float32Array(8);
    const addedRunning = cost.addRunning(states, actions, 8, running);
    const addedTerminal = cost.addTerminal(states, actions, 8, terminal);
    for (let k = 0; k < 8; k++) {
      const v = cost.expression.evaluateOne(row(states, k, NX), row(actions, k, NU));
      assert.equal(running[k], Math.fround(2 * v));
      assert.equal(terminal[k], Math.fround(5 * v));
    }
    assert.ok(Math.abs(addedTerminal - 2.5 * addedRunning) <= 1e-9 * Math.abs(addedTerminal));
  });

  it('skips the work when a weight is 0', () => {
    const cost = new ExpressionCost({ ...spec, weight: 0, terminal_weight: 0 }, scope, 'task.cost[0].expr');
    const costs = new Float32Array(8).fill(3);
    assert.equal(cost.addRunning(states, actions, 8, costs), 0);
    assert.equal(cost.addTerminal(states, actions, 8, costs), 0);
    assert.ok(costs.every((c) => c === 3));
  });

  it('names the expression field in config errors', () => {
    assert.throws(
      () => new ExpressionCost({ ...spec, expr: 'cos(thetta)' }, scope, 'task.cost[1].expr'),
      (err: MpcdError) => err.code === 'CONFIG_EXPRESSION' && err.message.startsWith('task.cost[1].expr: unknown name "thetta"'),
    );
    assert.throws(() => new ExpressionCost({ ...spec, weight: Number.NaN }, scope, 'task.cost[1].expr'), /cost "swingup": weight must be a finite number/);
  });
});
