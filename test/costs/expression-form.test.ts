import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MpcdError } from '../../src/core/errors.js';
import { compileBatchExpression, compileCondition } from '../../src/costs/expression-compiler.js';
import { expressionForm, foldedValue, type Expr, type ExpressionScope } from '../../src/costs/expression-form.js';
import { compileExpressionProgram } from '../../src/costs/expression-program.js';
import { LiveParamValues } from '../../src/costs/task-params.js';
import { ParamBlock } from '../../src/gpu/param-block.js';
import { emitWgslExpression } from '../../src/gpu/wgsl-expression.js';

const live = new LiveParamValues({ params: { goal: { default: 0.25, live: true }, k: 2, reach: { default: 1, bounds: [0, 2], live: true } } });
const scope: ExpressionScope = { stateNames: ['x', 'theta'], actionNames: ['u'], params: { k: 2 }, live };
const FIELD = 'task.cost[0].expr';

/** The form as nested arrays, for readable expectations (calls by name). */
function shape(e: Expr): unknown {
  switch (e.kind) {
    case 'num':
      return e.literal ? e.value : `=${e.value}`;
    case 'state':
    case 'action':
    case 'live':
      return `${e.kind}${e.index}`;
    case 'neg':
    case 'not':
      return [e.kind, shape(e.arg)];
    case 'arithmetic':
    case 'logic':
      return [e.op, shape(e.left), shape(e.right)];
    case 'compare':
      return ['compare', e.ops, e.args.map(shape)];
    case 'conditional':
      return ['?', shape(e.test), shape(e.then), shape(e.otherwise)];
    case 'call':
      return [e.name, ...e.args.map(shape)];
  }
}

const formOf = (source: string): unknown => shape(expressionForm(source, scope, FIELD).root);

describe('expressionForm', () => {
  it('binds states, actions, constant params (as numbers) and live params (by live index)', () => {
    assert.deepEqual(formOf('k * x + goal - reach * u'), ['sub', ['add', ['mul', '=2', 'state0'], 'live0'], ['mul', 'live1', 'action0']]);
    assert.deepEqual(formOf('+(theta) * pi'), ['mul', 'state1', `=${Math.PI}`]);
    assert.deepEqual(formOf('true + -2'), ['add', '=1', ['neg', 2]]);
  });

  it('keeps comparison chains, logic and conditionals as such', () => {
    assert.deepEqual(formOf('0 < x <= goal'), ['compare', ['lt', 'le'], [0, 'state0', 'live0']]);
    assert.deepEqual(formOf('not (x > 1) xor u == 0'), ['xor', ['not', ['compare', ['gt'], ['state0', 1]]], ['compare', ['eq'], ['action0', 0]]]);
    assert.deepEqual(formOf('x > 0 ? u : theta'), ['?', ['compare', ['gt'], ['state0', 0]], 'action0', 'state1']);
  });

  it('rewrites pow(x, y), log(x, base) and clamp into the forms every back-end knows', () => {
    assert.deepEqual(formOf('pow(x, goal)'), ['pow', 'state0', 'live0']);
    assert.deepEqual(formOf('log(x, 3) + log(u)'), ['add', ['div', ['log', 'state0'], ['log', 3]], ['log', 'action0']]);
    assert.deepEqual(formOf('clamp(x, -1, goal)'), ['min', ['max', 'state0', ['neg', 1]], 'live0']);
  });

  it('folds numbers, never a live param', () => {
    const fold = (source: string): number | undefined => foldedValue(expressionForm(source, scope, FIELD).root);
    assert.equal(fold('(1 + k) * 2^3 - -1 / 4'), 24.25);
    assert.equal(fold('goal * 0'), undefined);
    assert.equal(fold('x * 0'), undefined);
    assert.equal(fold('5 mod 3'), undefined);
  });

  it('reports a live param defined twice, and lists live params among the known names', () => {
    const twice: ExpressionScope = { stateNames: ['goal'], actionNames: ['u'], params: {}, live };
    assert.throws(() => expressionForm('goal', twice, FIELD), /param name "goal" is defined twice \(state, action and param names must be distinct\)/);
    const clash: ExpressionScope = { ...scope, params: { goal: 1 } };
    assert.throws(() => expressionForm('goal', clash, FIELD), /param name "goal" is defined twice/);
    assert.throws(() => expressionForm('gaal', scope, FIELD), (err: MpcdError) => err.message.includes('did you mean "goal"') && err.message.includes('params: k, goal, reach'));
  });
});

describe('the three back-ends share one form', () => {
  const entryPoints: [string, (source: string) => unknown][] = [
    ['compileBatchExpression', (s) => compileBatchExpression(s, scope, FIELD)],
    ['compileCondition', (s) => compileCondition(s, scope, FIELD)],
    ['compileExpressionProgram', (s) => compileExpressionProgram(s, scope, FIELD)],
    ['emitWgslExpression', (s) => emitWgslExpression(s, scope, new ParamBlock(), FIELD)],
  ];

  it('fails a bad expression with the same MpcdError message in every entry point', () => {
    const bad = ['gaol * x', 'x +', 'sin(x, u)', 'frobnicate(x)', 'x = 3', '"str"', 'x!', 'sin + 1', 'theta(2)', '', '[1, 2]', 'x to cm'];
    for (const source of bad) {
      const messages = entryPoints.map(([name, compile]) => {
        try {
          compile(source);
        } catch (err) {
          assert.ok(err instanceof MpcdError && err.code === 'CONFIG_EXPRESSION', `${name}("${source}"): ${String(err)}`);
          return err.message;
        }
        return assert.fail(`${name} accepted "${source}"`);
      });
      assert.ok(messages[0]!.startsWith(`${FIELD}: `), messages[0]);
      for (const m of messages) assert.equal(m, messages[0], source);
    }
  });

  it('accepts what the form accepts, in every entry point', () => {
    for (const source of ['clamp(x, -goal, goal) + pow(u, 2) + log(reach + 1, 2)', 'abs(x - goal) < 0.1 and u > 0']) {
      for (const [, compile] of entryPoints) assert.ok(compile(source) !== undefined, source);
    }
  });
});
