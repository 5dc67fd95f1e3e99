import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { before, test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { Rng } from '../../../src/core/rng.js';
import { loadedKernelName, loadMlpKernel, loadMlpKernelSync, type MlpKernel, type MlpLayer } from '../../../src/models/residual/mlp-kernel.js';
import { loadNativeMlpAddon, nativeAddonPath, nativeMlpKernel, type NativeMlpAddon } from '../../../src/models/residual/native-mlp-kernel.js';
import { selectTfBackend } from '../../../src/models/residual/tf-backend.js';
import { tfjsMlpKernel } from '../../../src/models/residual/tfjs-mlp-kernel.js';
import { typescriptMlpKernel } from '../../../src/models/residual/typescript-mlp-kernel.js';
import { assertClose } from './reference-mlp.js';

/** Float32 arithmetic (FMA, other summation orders) vs a float64 reference, on O(1) activations. */
const TOL = 1e-5;
/** Where the native addon may be missing (a machine without a compiler), its tests are skipped. */
const ALLOW_NO_NATIVE = process.env.MPCD_ALLOW_NO_NATIVE === '1';

const KERNELS = ['native', 'tfjs', 'typescript'] as const;
type KernelKind = (typeof KERNELS)[number];
const kernels = new Map<KernelKind, MlpKernel>();
let nativeError: unknown;

before(async () => {
  await selectTfBackend('auto');
  kernels.set('tfjs', await tfjsMlpKernel());
  kernels.set('typescript', typescriptMlpKernel());
  try {
    kernels.set('native', nativeMlpKernel());
  } catch (err) {
    nativeError = err;
  }
});

/** The kernel, or undefined where the native one may be absent; fails where it must load. */
function kernelOrSkip(kind: KernelKind, skip: (why: string) => void): MlpKernel | undefined {
  const kernel = kernels.get(kind);
  if (kernel !== undefined) return kernel;
  if (kind === 'native' && ALLOW_NO_NATIVE) {
    skip(`native kernel absent (MPCD_ALLOW_NO_NATIVE=1): ${String(nativeError)}`);
    return undefined;
  }
  throw nativeError instanceof Error ? nativeError : new Error(`the ${kind} kernel did not load`);
}

function nativeAddonOrSkip(skip: (why: string) => void): NativeMlpAddon | undefined {
  return kernelOrSkip('native', skip) === undefined ? undefined : loadNativeMlpAddon();
}

/** Layers of widths [in, hidden..., out], weights ~ N(0, 1/in) so activations stay O(1), nonzero biases. */
function randomLayers(widths: readonly number[], rng: Rng): MlpLayer[] {
  const layers: MlpLayer[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    const inn = widths[l]!;
    const out = widths[l + 1]!;
    const weights = new Float32Array(inn * out).map(() => rng.normal() / Math.sqrt(inn));
    const bias = new Float32Array(out).map(() => 0.3 * rng.normal());
    layers.push({ weights, bias });
  }
  return layers;
}

/** The network in float64 for one input row, read straight from the [in, out] layouts. */
function referenceRow(layers: readonly MlpLayer[], row: ArrayLike<number>): number[] {
  let h = Array.from(row);
  layers.forEach((layer, l) => {
    const out = layer.bias.length;
    const next: number[] = [];
    for (let j = 0; j < out; j++) {
      let sum = layer.bias[j]!;
      for (let k = 0; k < h.length; k++) sum += h[k]! * layer.weights[k * out + j]!;
      next.push(l < layers.length - 1 ? Math.max(0, sum) : sum);
    }
    h = next;
  });
  return h;
}

const SENTINEL = -12345.5;
const INPUTS = [5, 6, 7];
const HIDDEN: readonly (readonly number[])[] = [[64, 64], [37], [1], [17, 64], [100, 33], []];
const OUTPUTS = [4, 1];
const ROWS = [0, 1, 3, 5, 300];
const MAX_ROWS = 300;

for (const kind of KERNELS) {
  test(`${kind} kernel matches a float64 reference on awkward shapes, offsets, accumulate on and off`, (t) => {
    const kernel = kernelOrSkip(kind, (why) => t.skip(why));
    if (kernel === undefined) return;
    const rng = new Rng(20240611);
    for (const inn of INPUTS) {
      for (const hidden of HIDDEN) {
        for (const out of OUTPUTS) {
          const widths = [inn, ...hidden, out];
          const layers = randomLayers(widths, rng);
          const net = kernel.createNetwork(layers, MAX_ROWS);
          assert.equal(net.inputDim, inn);
          assert.equal(net.outputDim, out);
          for (const rows of ROWS) {
            const xOffset = 1 + (rows % 7);
            const yOffset = 2 + (rows % 5);
            const x = new Float32Array(xOffset + rows * inn + 3).map(() => 2 * rng.uniform() - 1); // [rows, in] from xOffset
            const expected = Array.from({ length: rows }, (_, r) => referenceRow(layers, x.subarray(xOffset + r * inn, xOffset + (r + 1) * inn)));
            for (const accumulate of [false, true]) {
              const what = `${kind} [${widths.join(', ')}], ${rows} rows, accumulate ${accumulate}`;
              const y = new Float32Array(yOffset + rows * out + 4).fill(SENTINEL); // [rows, out] from yOffset
              const before = new Float32Array(rows * out).map(() => rng.normal());
              if (accumulate) y.set(before, yOffset);
              net.forward(x, xOffset, rows, y, yOffset, accumulate);
              const want = expected.flatMap((row, r) => row.map((v, j) => (accumulate ? v + before[r * out + j]! : v)));
              assertClose(y.subarray(yOffset, yOffset + rows * out), want, TOL, what);
              assert.ok(y.subarray(0, yOffset).every((v) => v === SENTINEL), `${what}: wrote before yOffset`);
              assert.ok(y.subarray(yOffset + rows * out).every((v) => v === SENTINEL), `${what}: wrote past the last row`);
            }
          }
          net.dispose();
        }
      }
    }
  });

  test(`${kind} kernel rejects bad forward arguments with errors and still works afterwards`, (t) => {
    const kernel = kernelOrSkip(kind, (why) => t.skip(why));
    if (kernel === undefined) return;
    const rng = new Rng(7);
    const layers = randomLayers([6, 17, 4], rng);
    const net = kernel.createNetwork(layers, 8);
    const x = new Float32Array(8 * 6).map(() => rng.normal()); // [8, 6]
    const y = new Float32Array(8 * 4); // [8, 4]
    const bad: [string, () => void][] = [
      ['rows past maxRows', () => net.forward(new Float32Array(9 * 6), 0, 9, new Float32Array(9 * 4), 0, false)],
      ['rows past the end of x', () => net.forward(x, 0, 9, new Float32Array(9 * 4), 0, false)],
      ['xOffset pushing rows past the end of x', () => net.forward(x, 1, 8, y, 0, false)],
      ['rows past the end of y', () => net.forward(x, 0, 8, new Float32Array(7 * 4), 0, false)],
      ['yOffset pushing rows past the end of y', () => net.forward(x, 0, 8, y, 1, false)],
      ['a negative offset', () => net.forward(x, -1, 1, y, 0, false)],
      ['a fractional row count', () => net.forward(x, 0, 1.5, y, 0, false)],
      ['a NaN row count', () => net.forward(x, 0, Number.NaN, y, 0, false)],
      ['a Float64Array x', () => net.forward(new Float64Array(48) as unknown as Float32Array, 0, 1, y, 0, false)],
      ['a non-boolean accumulate', () => net.forward(x, 0, 1, y, 0, 1 as unknown as boolean)],
      ['y overlapping x', () => net.forward(x, 0, 2, x.subarray(4), 0, false)],
    ];
    for (const [what, call] of bad) assert.throws(call, (err: unknown) => err instanceof TypeError || err instanceof RangeError, `${kind}: ${what}`);
    assert.deepEqual(Array.from(y), new Array(32).fill(0), `${kind}: a rejected call wrote into y`);
    net.forward(x, 0, 8, y, 0, false);
    for (let r = 0; r < 8; r++) assertClose(y.subarray(r * 4, (r + 1) * 4), referenceRow(layers, x.subarray(r * 6, (r + 1) * 6)), TOL, `${kind} row ${r}`);
  });

  test(`${kind} kernel rejects layers that do not chain`, (t) => {
    const kernel = kernelOrSkip(kind, (why) => t.skip(why));
    if (kernel === undefined) return;
    const [a, b] = randomLayers([6, 8, 4], new Rng(3));
    assert.throws(() => kernel.createNetwork([], 4), RangeError);
    assert.throws(() => kernel.createNetwork([b!, a!], 4), RangeError);
    assert.throws(() => kernel.createNetwork([{ weights: new Float32Array(47), bias: new Float32Array(8) }], 4), RangeError);
    assert.throws(() => kernel.createNetwork([a!, b!], -1), RangeError);
  });
}

test('the native addon rejects bad raw arguments with errors, never touching memory it was not given', (t) => {
  const native = nativeAddonOrSkip((why) => t.skip(why));
  if (native === undefined) return;
  const dims = Int32Array.from([6, 64, 64, 4]);
  const params = new Float32Array(6 * 64 + 64 + 64 * 64 + 64 + 64 * 4 + 4);
  const rows = 5;
  const x = new Float32Array(rows * 6);
  const y = new Float32Array(rows * 4);
  const scratch = new Float32Array(2 * rows * 64);
  const shared = new Float32Array(y.length + scratch.length);
  const call = (...args: unknown[]) => (native.forward as (...a: unknown[]) => void)(...args);
  const ok = [params, dims, x, 0, rows, y, 0, scratch, false] as const;
  const withArg = (i: number, v: unknown) => ok.map((a, j) => (j === i ? v : a));
  assert.doesNotThrow(() => call(...ok));
  const bad: [string, unknown[]][] = [
    ['too few arguments', ok.slice(0, 8)],
    ['a short scratch', withArg(7, new Float32Array(2 * rows * 64 - 1))],
    ['params longer than dims say', withArg(0, new Float32Array(params.length + 1))],
    ['params shorter than dims say', withArg(0, params.subarray(1))],
    ['dims with a zero width', withArg(1, Int32Array.from([6, 0, 64, 4]))],
    ['dims with a negative width', withArg(1, Int32Array.from([6, -64, 64, 4]))],
    ['dims with one width only', withArg(1, Int32Array.from([6]))],
    ['dims as a Float32Array', withArg(1, Float32Array.from(dims))],
    ['dims as an array', withArg(1, Array.from(dims))],
    ['rows past the end of x', withArg(4, rows + 1)],
    ['rows past the end of y', withArg(5, y.subarray(1))],
    ['an xOffset past the end of x', withArg(3, x.length + 1)],
    ['a huge row count', withArg(4, 2 ** 52)],
    ['an infinite yOffset', withArg(6, Number.POSITIVE_INFINITY)],
    ['a string row count', withArg(4, '5')],
    ['a Float64Array scratch', withArg(7, new Float64Array(scratch.length))],
    ['accumulate as a number', withArg(8, 0)],
    ['scratch overlapping y', [params, dims, x, 0, rows, shared.subarray(0, y.length), 0, shared.subarray(y.length - 1), false]],
    ['y inside params', withArg(5, params.subarray(0, y.length))],
  ];
  for (const [what, args] of bad) assert.throws(() => call(...args), (err: unknown) => err instanceof TypeError || err instanceof RangeError, what);
});

test('the native addon loads in a worker thread too, through the synchronous loader', async (t) => {
  if (kernelOrSkip('native', (why) => t.skip(why)) === undefined) return;
  const moduleUrl = new URL('../../../src/models/residual/mlp-kernel.js', import.meta.url).href;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.moduleUrl).then((m) => {
      const kernel = m.loadMlpKernelSync('native');
      const net = kernel.createNetwork([{ weights: Float32Array.from([1, -2, 3, 4]), bias: Float32Array.from([0.5, -0.5]) }], 1);
      const y = new Float32Array(2);
      net.forward(Float32Array.from([1, 2]), 0, 1, y, 0, false);
      parentPort.postMessage({ name: kernel.name, y: Array.from(y) });
    });`;
  const reply = await new Promise<{ name: string; y: number[] }>((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { moduleUrl } });
    worker.once('message', (m: { name: string; y: number[] }) => {
      void worker.terminate();
      resolve(m);
    });
    worker.once('error', reject);
  });
  assert.match(reply.name, /^native-/);
  assert.deepEqual(reply.y, [1 + 2 * 3 + 0.5, -2 + 2 * 4 - 0.5]);
});

test('auto picks the native kernel where it loads, and loadedKernelName says so', async (t) => {
  const native = kernelOrSkip('native', (why) => t.skip(why));
  if (native === undefined) return;
  assert.ok(existsSync(nativeAddonPath()));
  assert.match(native.name, /^native-(avx512|avx2|generic)$/);
  assert.equal((await loadMlpKernel('auto')).name, native.name);
  assert.equal(loadedKernelName(), native.name);
  assert.equal(loadMlpKernelSync('auto').name, native.name);
});

test('explicit kernel choices load that kernel, and tfjs only asynchronously', async () => {
  assert.equal((await loadMlpKernel('typescript')).name, 'typescript');
  assert.equal(loadedKernelName(), 'typescript');
  assert.match((await loadMlpKernel('tfjs')).name, /^tfjs-/);
  assert.equal(loadMlpKernelSync('typescript').name, 'typescript');
  assert.throws(() => loadMlpKernelSync('tfjs'), /asynchronously/);
});
