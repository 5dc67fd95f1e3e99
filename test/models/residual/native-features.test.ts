import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Rng } from '../../../src/core/rng.js';
import type { NativeVectorKernels } from '../../../src/models/residual/native-vector-kernels.js';
import { featureWriter, inputDim, writeFeatures, type ResidualSpec } from '../../../src/models/residual/residual-spec.js';
import { kernelsOrSkip } from '../../native-kernels-or-skip.js';


const spec = (angular: boolean[], actions: number): ResidualSpec => ({
  stateNames: angular.map((_, i) => `s${i}`),
  actionNames: Array.from({ length: actions }, (_, j) => `a${j}`),
  angular,
  hidden: [8],
  members: 1,
});

const SPECS: ResidualSpec[] = [
  spec([false, true, false, false], 1), // cart-pole
  spec([true, false], 1), // pendulum
  spec([true, true, false, true, false], 2),
  spec([false, false, false], 0),
];

/** The native features of `s` against writeFeatures: sin and cos in double rounded to float32 as Math.sin's. */
function compare(kernels: NativeVectorKernels, s: ResidualSpec, states: Float32Array, actions: Float32Array, count: number): void {
  const d = inputDim(s);
  const want = new Float32Array(count * d);
  writeFeatures(s, states, actions, count, want);
  const got = new Float32Array(count * d + 3).fill(-9);
  const mask = Uint8Array.from(s.angular, (a) => (a ? 1 : 0));
  kernels.stateFeatures(mask, states, s.stateNames.length, actions, s.actionNames.length, count, got);
  let exact = 0;
  for (let i = 0; i < count * d; i++) {
    if (Object.is(got[i], want[i])) exact++;
    else if (Number.isNaN(want[i])) assert.ok(Number.isNaN(got[i]), `[${i}]: ${got[i]} vs NaN`);
    else assert.ok(Math.abs(got[i]! - want[i]!) <= 1.2e-7 * Math.abs(want[i]!) + 1e-45, `[${i}]: ${got[i]} vs ${want[i]}`);
  }
  assert.ok(exact >= 0.999 * count * d, `only ${exact} of ${count * d} features bit for bit`);
  assert.deepEqual([...got.subarray(count * d)], [-9, -9, -9]);
}

describe('native stateFeatures', () => {
  it('writes the layout and values of writeFeatures for every batch size up to 70', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const rng = new Rng(21);
    for (const s of SPECS) {
      const nx = s.stateNames.length;
      const nu = s.actionNames.length;
      const states = Float32Array.from({ length: 70 * nx }, () => 20 * (rng.uniform() - 0.5));
      const actions = Float32Array.from({ length: 70 * nu }, () => 2 * rng.uniform() - 1);
      for (let count = 0; count <= 70; count++) compare(kernels, s, states, actions, count);
    }
  });

  it('keeps NaN and Inf non-finite and reduces huge angles like Math.sin', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const values = [Number.NaN, Number.POSITIVE_INFINITY, -Number.POSITIVE_INFINITY, 1e5, -4e6, 1e10, 3e38, -0, 0, Math.fround(Math.PI), 1e-30];
    const s = SPECS[1]!;
    const states = Float32Array.from(values.flatMap((v) => [v, v]));
    const actions = new Float32Array(values.length).fill(0.5);
    compare(kernels, s, states, actions, values.length);
  });

  it('featureWriter picks the native kernel, and TypeScript with MPCD_NO_NATIVE=1, with the same features', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const s = SPECS[0]!;
    const rng = new Rng(4);
    const states = Float32Array.from({ length: 33 * 4 }, () => 8 * (rng.uniform() - 0.5));
    const actions = Float32Array.from({ length: 33 }, () => rng.uniform());
    const saved = process.env.MPCD_NO_NATIVE;
    try {
      delete process.env.MPCD_NO_NATIVE;
      const native = new Float32Array(33 * inputDim(s));
      featureWriter(s)(states, actions, 33, native);
      process.env.MPCD_NO_NATIVE = '1';
      const portable = new Float32Array(33 * inputDim(s));
      featureWriter(s)(states, actions, 33, portable);
      for (let i = 0; i < native.length; i++) assert.ok(Math.abs(native[i]! - portable[i]!) <= 1.2e-7 * Math.abs(portable[i]!), `[${i}]`);
    } finally {
      if (saved === undefined) delete process.env.MPCD_NO_NATIVE;
      else process.env.MPCD_NO_NATIVE = saved;
    }
  });

  it('rejects bad arguments with TypeError or RangeError', (t) => {
    const kernels = kernelsOrSkip(t);
    if (kernels === undefined) return;
    const mask = Uint8Array.of(0, 1, 0, 0);
    const states = new Float32Array(8);
    const actions = new Float32Array(2);
    const out = new Float32Array(12);
    const call = (...args: unknown[]): void => (kernels.stateFeatures as (...x: unknown[]) => void)(...args);
    call(mask, states, 4, actions, 1, 2, out);
    const bad: [args: unknown[], error: RangeErrorConstructor | TypeErrorConstructor, message: RegExp][] = [
      [[mask, states, 4, actions, 1, 2], TypeError, /expects 7 arguments/],
      [[[0, 1, 0, 0], states, 4, actions, 1, 2, out], TypeError, /angularMask must be a Uint8Array/],
      [[mask, states, 3, actions, 1, 2, out], RangeError, /angularMask.length is 4, but nx is 3/],
      [[mask, states, 4, actions, 1, 3, out], RangeError, /states too short/],
      [[mask, states, 4, actions.subarray(1), 1, 2, out], RangeError, /actions too short/],
      [[mask, states, 4, actions, 1, 2, out.subarray(1)], RangeError, /out too short/],
      [[mask, states, 4, actions, 1, 2.5, out], RangeError, /count/],
      [[mask, out.subarray(0, 8), 4, actions, 1, 1, out], RangeError, /must not share memory/],
    ];
    for (const [args, error, message] of bad) {
      assert.throws(() => call(...args), (err: unknown) => err instanceof error && message.test((err as Error).message), String(message));
    }
  });
});
