import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';

import { Rng } from '../../src/core/rng.js';
import { compileBatchExpression, type ExpressionScope } from '../../src/costs/expression-compiler.js';
import { LiveParamValues } from '../../src/costs/task-params.js';
import { openGpuDevice, type GpuContext } from '../../src/gpu/open-gpu-device.js';
import { ParamBlock } from '../../src/gpu/param-block.js';
import { BufferUsage, MapMode, type GpuDevice } from '../../src/gpu/webgpu-api.js';
import { emitWgslExpression, WGSL_EXPRESSION_FUNCTIONS } from '../../src/gpu/wgsl-expression.js';
import { WGSL_MATH } from '../../src/gpu/wgsl-math.js';

/*
 * The WGSL translation of config expressions against the CPU compiler, value by value on random
 * float32 states and actions. Both read the same float32 inputs; the CPU then computes in
 * float64 and the GPU in float32, so a value may differ by a few float32 ulps of the terms it
 * sums (~1e-6 of values up to ~10 here): 2e-5 relative to max(1, |value|) leaves room for
 * WGSL's looser exp/log/atan and nothing for a wrong operator or function. Arguments are kept
 * off the places where a function's condition number explodes (tan near pi/2, asin near +-1).
 */
const REQUIRE_WEBGPU = process.env.MPCD_REQUIRE_WEBGPU === '1';
const TOL = 2e-5;
const N = 512;
const NX = 4;
const NU = 2;
const scope: ExpressionScope = { stateNames: ['x', 'theta', 'x_dot', 'theta_dot'], actionNames: ['u', 'f'], params: { m: 1.5, target: 0.3, gain: -2 } };

const EXPRESSIONS = [
  '10*(1 - cos(theta)) + 0.1*x^2 + 0.01*u^2 + sin(40*theta_dot)',
  'wrap(theta)^2 + 3*wrap(theta - pi) + wrap(7*theta_dot)',
  'clamp(x, -0.5, target) * gain + clamp(u, -1, 1)',
  'x > 0 ? x_dot : -theta_dot',
  '(x > 0 ? 1 : u < 0 ? 2 : 3) * m',
  'abs(x) < 1 and theta_dot >= 0 or not (u <= f)',
  '2x + 3theta u - 2 pi f',
  '-x^2 + (-x)^2 + -u^3 + 2^-x + x^2^1 + x^-2 + x^(-1) + u^0',
  'x % 0.7 + (theta mod -1.3) + (f % 2) + (x mod 0)',
  'sqrt(x^2 + 1) + log(1 + u^2) + log(x^2 + 2, 3) + exp(-x^2) + log10(2 + sin(x)) + log2(3 + cos(u))',
  'atan2(theta, x) + atan(x) + asin(sin(x)/2) + acos(cos(u)/2) + tanh(x) + tanh(100 u) + sinh(u)/10 + cosh(x_dot)/10 + tan(x/3)',
  'min(x, u, theta) * max(x, u) + min(f) + max(f, 1) + hypot(x, theta, u) + hypot(x) + cbrt(x) + cbrt(-8) + sign(u)',
  'floor(3x) + ceil(2u) + round(4x) + round(-2.5) + round(2.5)',
  'pow(abs(x), 1.5) + pow(x, 3) + square(u - target) + smoothabs(x, 0.1) - m*e + tau*pi',
  '(x > 0 xor u > 0) + (x == x) + (x != x) + (x <= u) + (x >= u) + (0 < x < 1) + true - false * x',
  // Where JavaScript's Math gives NaN or infinities, so must the kernel.
  'sqrt(x)',
  'log(x) + log2(u) * 0',
  'asin(x) + acos(u)',
  'pow(x, 0.5) + (-8)^(1/3) * 0',
  'x / 0',
  'sqrt(x) > 0 ? 1 : 2',
  'sqrt(x) ? 1 : 2',
  'not sqrt(x)',
  'min(sqrt(x), 1) + max(1, sqrt(u))',
  'sqrt(x)^0 + 0^x',
];

/** The functions the CPU compiler knows, from its own "unknown function" message. */
function cpuFunctionNames(): string[] {
  try {
    compileBatchExpression('no_such_function(x)', scope, 'test');
  } catch (err) {
    const match = /known functions: ([a-z0-9, ]+)/.exec((err as Error).message);
    assert.ok(match !== null, (err as Error).message);
    return match[1]!.split(', ');
  }
  return assert.fail('an unknown function must be an error');
}

interface ExpressionKernel {
  readonly block: ParamBlock;
  /** OUT [expressions, N] for these inputs and params buffer contents. */
  run(states: Float32Array, actions: Float32Array, params: Float32Array): Promise<Float32Array>;
}

/** One pipeline computing every expression per sample; each run writes its inputs afresh. */
async function expressionKernel(device: GpuDevice, sources: readonly string[], exprScope: ExpressionScope = scope): Promise<ExpressionKernel> {
  const block = new ParamBlock();
  const fns = sources.map((src, i) => `fn expr_${i}(s: array<f32, ${NX}>, a: array<f32, ${NU}>) -> f32 {\n  return ${emitWgslExpression(src, exprScope, block, `expr ${i}`)};\n}\n`);
  const code = `
@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read> S: array<f32>; // [N, nx]
@group(0) @binding(2) var<storage, read> A: array<f32>; // [N, nu]
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>; // [expressions, N]
${WGSL_MATH}
${fns.join('\n')}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  if (k >= ${N}u) { return; }
  let s = array<f32, ${NX}>(${Array.from({ length: NX }, (_, i) => `S[k * ${NX}u + ${i}u]`).join(', ')});
  let a = array<f32, ${NU}>(${Array.from({ length: NU }, (_, j) => `A[k * ${NU}u + ${j}u]`).join(', ')});
${sources.map((_, i) => `  OUT[${i * N}u + k] = expr_${i}(s, a);`).join('\n')}
}
`;
  const module = device.createShaderModule({ code });
  const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
  assert.deepEqual(errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`), [], 'the WGSL compiles');
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const run = async (states: Float32Array, actions: Float32Array, params: Float32Array): Promise<Float32Array> => {
    const input = (data: Float32Array) => {
      const b = device.createBuffer({ size: data.byteLength, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
      device.queue.writeBuffer(b, 0, data);
      return b;
    };
    const outBytes = 4 * sources.length * N;
    const buffers = [input(params), input(states), input(actions), device.createBuffer({ size: outBytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC })];
    const readback = device.createBuffer({ size: outBytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) }));
    pass.dispatchWorkgroups(Math.ceil(N / 64));
    pass.end();
    encoder.copyBufferToBuffer(buffers[3]!, 0, readback, 0, outBytes);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(MapMode.READ);
    const out = new Float32Array(readback.getMappedRange().slice(0));
    readback.unmap();
    for (const b of [...buffers, readback]) b.destroy();
    return out;
  };
  return { block, run };
}

async function runExpressions(device: GpuDevice, sources: readonly string[], states: Float32Array, actions: Float32Array): Promise<Float32Array> {
  const kernel = await expressionKernel(device, sources);
  return kernel.run(states, actions, kernel.block.data());
}

function agree(gpu: number, cpu: number): boolean {
  if (Number.isNaN(cpu)) return Number.isNaN(gpu);
  if (!Number.isFinite(cpu)) return gpu === cpu;
  return Math.abs(gpu - cpu) <= TOL * Math.max(1, Math.abs(cpu));
}

describe('config expressions in WGSL', () => {
  let ctx: GpuContext | undefined;
  let why = '';
  before(async () => {
    const opened = await openGpuDevice({ largestStorageBinding: 1 << 20, largestBuffer: 1 << 20 });
    if ('unsupported' in opened) why = opened.unsupported;
    else ctx = opened;
  });
  after(() => ctx?.device.destroy());
  const deviceOrSkip = (t: TestContext): GpuDevice | undefined => {
    if (ctx !== undefined) return ctx.device;
    if (REQUIRE_WEBGPU) assert.fail(`MPCD_REQUIRE_WEBGPU=1 but: ${why}`);
    t.skip(why);
    return undefined;
  };

  it('knows every function the CPU compiler knows', () => {
    assert.deepEqual([...WGSL_EXPRESSION_FUNCTIONS].sort(), cpuFunctionNames().sort());
  });

  it('gives the CPU compiler\'s values, NaNs and infinities', async (t) => {
    const device = deviceOrSkip(t);
    if (device === undefined) return;
    const rng = new Rng(5);
    const states = Float32Array.from({ length: N * NX }, () => 3 * (2 * rng.uniform() - 1));
    const actions = Float32Array.from({ length: N * NU }, () => 3 * (2 * rng.uniform() - 1));
    const out = await runExpressions(device, EXPRESSIONS, states, actions);
    const cpu = new Float32Array(N);
    EXPRESSIONS.forEach((source, e) => {
      compileBatchExpression(source, scope, 'test').evaluate(states, actions, N, cpu);
      let worst = 0;
      for (let k = 0; k < N; k++) {
        const g = out[e * N + k]!;
        const c = cpu[k]!;
        assert.ok(agree(g, c), `"${source}" at sample ${k} (x=${states[k * NX]}, u=${actions[k * NU]}): GPU ${g}, CPU ${c}`);
        if (Number.isFinite(c)) worst = Math.max(worst, Math.abs(g - c) / Math.max(1, Math.abs(c)));
      }
      t.diagnostic(`${source}: max difference ${worst.toExponential(1)}`);
    });
  });

  it('reads live params from slots that mirror them: the CPU values with the params as constants, before and after a change', async (t) => {
    const device = deviceOrSkip(t);
    if (device === undefined) return;
    const live = new LiveParamValues({ params: { target: { default: 0.3, live: true }, gain: { default: -2, live: true } } });
    const liveScope: ExpressionScope = { ...scope, params: { m: 1.5 }, live };
    const sources = [
      'clamp(x, -0.5, target) * gain + clamp(u, -1, 1)',
      '(x - target)^2 + gain * u + target * 2 - target / 4 + 1 / (gain * gain + 1)',
      'x > target ? target : gain',
      'pow(abs(x), target + 1) + abs(x)^gain * 0.01 + square(u - target) - m * target',
    ];
    const kernel = await expressionKernel(device, sources, liveScope);
    const slots = kernel.block.liveSlots();
    assert.equal(slots.length, 4, 'one slot per live param, however often it is read');
    const rng = new Rng(8);
    const states = Float32Array.from({ length: N * NX }, () => 3 * (2 * rng.uniform() - 1));
    const actions = Float32Array.from({ length: N * NU }, () => 3 * (2 * rng.uniform() - 1));
    const params = kernel.block.data();
    for (const [target, gain] of [[0.3, -2], [-0.8, 1.5]] as const) {
      assert.equal(live.set('target', target), undefined);
      assert.equal(live.set('gain', gain), undefined);
      // What GpuRollout does before a dispatch: the mirroring slots take the current values.
      for (let i = 0; i < slots.length; i += 2) params[slots[i]!] = live.values[slots[i + 1]!]!;
      const out = await kernel.run(states, actions, params);
      const cpu = new Float32Array(N);
      sources.forEach((source, e) => {
        compileBatchExpression(source, { ...scope, params: { m: 1.5, target, gain } }, 'test').evaluate(states, actions, N, cpu);
        for (let k = 0; k < N; k++) {
          assert.ok(agree(out[e * N + k]!, cpu[k]!), `"${source}" with target=${target} gain=${gain} at sample ${k}: GPU ${out[e * N + k]}, CPU ${cpu[k]}`);
        }
      });
    }
  });
});
