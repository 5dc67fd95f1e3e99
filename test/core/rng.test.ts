import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { loadNativeMlpAddon } from '../../src/models/residual/native-mlp-kernel.js';

test('normal(): standard normal moments and tails, one seeded stream', () => {
  const r = new Rng(11);
  const N = 400_000;
  let s1 = 0;
  let s2 = 0;
  let s4 = 0;
  let beyond3 = 0;
  for (let i = 0; i < N; i++) {
    const x = r.normal();
    s1 += x;
    s2 += x * x;
    s4 += x ** 4;
    if (Math.abs(x) > 3) beyond3++;
  }
  // Standard errors at N = 4e5: mean 0.0016, variance 0.0022, 4th moment 0.015, P(|x|>3) 8.5e-5.
  assert.ok(Math.abs(s1 / N) < 0.008, `mean ${s1 / N}`);
  assert.ok(Math.abs(s2 / N - 1) < 0.011, `variance ${s2 / N}`);
  assert.ok(Math.abs(s4 / N - 3) < 0.075, `fourth moment ${s4 / N}`);
  assert.ok(Math.abs(beyond3 / N - 0.0027) < 0.0005, `P(|x| > 3) = ${beyond3 / N}`);
  const again = new Rng(11);
  const first = new Rng(11).normal();
  assert.equal(again.normal(), first, 'same seed, same stream');
});

test('fillNormal draws the same stream as normal(), natively where the kernels built, and continues it', () => {
  const a = new Rng(5);
  const b = new Rng(5);
  const out = new Float32Array(300_010).fill(7);
  a.fillNormal(out, 300_000, 5);
  for (let i = 0; i < 300_000; i++) assert.equal(out[5 + i], Math.fround(b.normal()), `draw ${i}`);
  assert.equal(out[4], 7, 'nothing written before offset');
  assert.equal(out[300_005], 7, 'nothing written past offset + count');
  assert.equal(a.nextU32(), b.nextU32(), 'the generators are in the same state afterwards');
});

test('the native sampler rejects bad arguments', { skip: process.env.MPCD_NO_NATIVE === '1' ? 'MPCD_NO_NATIVE=1' : false }, () => {
  const { normalFill } = loadNativeMlpAddon();
  const tables = new Float64Array(386);
  assert.throws(() => normalFill(new Int32Array(3), tables, new Float32Array(4), 0, 1), RangeError);
  assert.throws(() => normalFill(new Int32Array(4), new Float64Array(10), new Float32Array(4), 0, 1), RangeError);
  assert.throws(() => normalFill(new Int32Array(4), tables, new Float32Array(4), 2, 3), RangeError);
  assert.throws(() => normalFill(new Int32Array(4), tables, new Float64Array(4) as unknown as Float32Array, 0, 1), TypeError);
});
