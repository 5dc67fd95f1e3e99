import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

import { loadConfig, parseConfigText } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';
import { buildTaskCost } from '../../src/costs/build-task-cost.js';
import { GpuRollout } from '../../src/gpu/gpu-rollout.js';
import { openGpuDevice, type GpuContext } from '../../src/gpu/open-gpu-device.js';
import { ParamBlock } from '../../src/gpu/param-block.js';
import { unsupportedFeature } from '../../src/gpu/rollout-kernel.js';
import { BufferUsage, MapMode, type GpuDevice } from '../../src/gpu/webgpu-api.js';
import { WGSL_MATH } from '../../src/gpu/wgsl-math.js';
import { emitPointStates } from '../../src/gpu/wgsl-points.js';
import { emitRigidBodyDynamics } from '../../src/gpu/wgsl-rigid-body.js';
import { buildModel } from '../../src/models/build-model.js';
import { articulatedBodyDerivatives, DEFAULT_FRICTION_VELOCITY } from '../../src/models/rigid-body/articulated-body.js';
import type { KinematicTree } from '../../src/models/rigid-body/kinematic-tree.js';
import { getMujoco, loadMjcf } from '../../src/models/rigid-body/mujoco-runtime.js';
import { PointKinematics } from '../../src/models/rigid-body/point-kinematics.js';
import { readKinematicTree } from '../../src/models/rigid-body/read-kinematic-tree.js';
import { RolloutEngine } from '../../src/planning/rollout.js';
import { mujocoAccelerations, randomBatch, readTree, withFrictionAndJointClamp, worstRelativeError } from '../models/rigid-body/mujoco-reference.js';

/*
 * The WGSL rigid-body dynamics (src/gpu/wgsl-rigid-body.ts) on the MJCFs of the TypeScript
 * parity test (test/models/rigid-body/mujoco-parity.test.ts):
 *   - joint accelerations against MuJoCo's mj_forward (constraints off), 1e-4 relative as the
 *     native float32 kernel (float32 through the three passes; about 1e-5 is expected);
 *   - against the TypeScript twin with what the MJCFs lack (dry friction on every joint, a
 *     per-joint actuator force clamp), same tolerance;
 *   - the cost's points (wgsl-points.ts) against PointKinematics;
 *   - the whole GPU rollout of config/cartpole-rigid-body.yaml against the CPU RolloutEngine's
 *     costs, 1e-4 relative as test/gpu/gpu-rollout.test.ts argues for the analytic cart-pole
 *     (its horizon here is 50 steps, 1 s: float32 ulps grown by exp(3.8 t) ~ x45 stay ~1e-5).
 * Everything needing a device skips (fails with MPCD_REQUIRE_WEBGPU=1) where WebGPU is missing.
 */
const REQUIRE_WEBGPU = process.env.MPCD_REQUIRE_WEBGPU === '1';
const DERIV_TOL = 1e-4;
const POINT_TOL = 1e-5;
const COST_TOL = 1e-4;
const SAMPLES = 1000;
const K = 1024;
const ODD_COUNT = 777;

// dist/test/gpu -> repository root
const root = fileURLToPath(new URL('../../../', import.meta.url));
const files = [
  ...readdirSync(join(root, 'sim', 'models')).filter((f) => f.endsWith('.xml') && !f.startsWith('quadrotor')) /* free joints: the WGSL kernel declines them */.map((f) => join(root, 'sim', 'models', f)),
  join(root, 'test', 'models', 'rigid-body', 'branching-tree.xml'),
];



/**
 * Runs `fn dynamics` (and, with points, `fn cost_states`) of the tree for every row of states
 * [count, 2nq] and actions [count, nu]: returns derivatives [count, 2nq] and rows [count, width].
 */
async function runTree(
  device: GpuDevice,
  tree: KinematicTree,
  frictionVelocity: number,
  states: Float32Array,
  actions: Float32Array,
  points: KinematicTree['points'] = [],
): Promise<{ deriv: Float32Array; rows: Float32Array; width: number }> {
  const nx = 2 * tree.nq;
  const nu = tree.nu;
  const count = states.length / nx;
  const width = nx + 6 * points.length;
  const block = new ParamBlock();
  const dynamics = emitRigidBodyDynamics(tree, frictionVelocity, block);
  const rows = points.length === 0 ? '' : emitPointStates(tree, points, block);
  const code = `
@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read> S: array<f32>; // [count, nx]
@group(0) @binding(2) var<storage, read> A: array<f32>; // [count, nu]
@group(0) @binding(3) var<storage, read_write> D: array<f32>; // [count, nx]
@group(0) @binding(4) var<storage, read_write> ROWS: array<f32>; // [count, width]
${WGSL_MATH}${dynamics}${rows}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  if (k >= ${count}u) { return; }
  let s = array<f32, ${nx}>(${Array.from({ length: nx }, (_, i) => `S[k * ${nx}u + ${i}u]`).join(', ')});
  let a = array<f32, ${nu}>(${Array.from({ length: nu }, (_, j) => `A[k * ${nu}u + ${j}u]`).join(', ')});
  let d = dynamics(s, a);
${Array.from({ length: nx }, (_, i) => `  D[k * ${nx}u + ${i}u] = d[${i}];`).join('\n')}
${points.length === 0 ? '  ROWS[k] = 0.0f;' : `  let r = cost_states(s);\n${Array.from({ length: width }, (_, i) => `  ROWS[k * ${width}u + ${i}u] = r[${i}];`).join('\n')}`}
}
`;
  const module = device.createShaderModule({ code, label: `rigid-body ${tree.name}` });
  const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
  assert.deepEqual(errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`), [], 'the WGSL compiles');
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const input = (data: Float32Array): ReturnType<GpuDevice['createBuffer']> => {
    const b = device.createBuffer({ size: Math.max(4, data.byteLength), usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
    device.queue.writeBuffer(b, 0, data);
    return b;
  };
  const derivBytes = 4 * count * nx;
  const rowBytes = 4 * count * width;
  const output = (bytes: number) => device.createBuffer({ size: bytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC });
  const buffers = [input(block.data()), input(states), input(actions), output(derivBytes), output(rowBytes)];
  const readback = device.createBuffer({ size: derivBytes + rowBytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) }));
  pass.dispatchWorkgroups(Math.ceil(count / 64));
  pass.end();
  encoder.copyBufferToBuffer(buffers[3]!, 0, readback, 0, derivBytes);
  encoder.copyBufferToBuffer(buffers[4]!, 0, readback, derivBytes, rowBytes);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(MapMode.READ);
  const out = new Float32Array(readback.getMappedRange().slice(0));
  readback.unmap();
  for (const b of [...buffers, readback]) b.destroy();
  return { deriv: out.slice(0, count * nx), rows: out.slice(count * nx), width };
}

/** d/dt q = q_dot, exactly. */
function assertVelocitiesPassThrough(deriv: Float32Array, states: Float32Array, nq: number): void {
  for (let k = 0; k < states.length / (2 * nq); k++) {
    for (let d = 0; d < nq; d++) assert.equal(deriv[k * 2 * nq + d], states[k * 2 * nq + nq + d]);
  }
}

describe('the WGSL rigid-body dynamics', () => {
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

  for (const file of files) {
    const name = file.slice(root.length);
    it(`${name}: joint accelerations against MuJoCo (mj_forward, constraints off) at ${SAMPLES} random states and actions`, async (t) => {
      const device = deviceOrSkip(t);
      if (device === undefined) return;
      const mj = await getMujoco();
      const model = await loadMjcf(file);
      try {
        const tree = readKinematicTree(mj, model, file);
        assert.equal(tree.nq, model.nv, 'every dof of our models is a hinge or a slide');
        // MuJoCo's frictionloss is a constraint: compare the smooth dynamics without it.
        const smooth = { ...tree, frictionloss: tree.frictionloss.map(() => 0) };
        const { states, actions } = randomBatch(tree, SAMPLES, 7);
        const { deriv } = await runTree(device, smooth, DEFAULT_FRICTION_VELOCITY, states, actions);
        const want = mujocoAccelerations(mj, model, tree.nq, tree.nu, states, actions);
        const { error, sample } = worstRelativeError(deriv, 2 * tree.nq, tree.nq, want, tree.nq);
        t.diagnostic(`${name}: worst relative error against MuJoCo ${error.toExponential(2)} (sample ${sample})`);
        assert.ok(error <= DERIV_TOL, `worst relative error ${error.toExponential(2)} at sample ${sample}`);
        assertVelocitiesPassThrough(deriv, states, tree.nq);
      } finally {
        model.delete();
      }
    });

    it(`${name}: against the TypeScript twin with dry friction (smoothed) and a per-joint actuator force clamp`, async (t) => {
      const device = deviceOrSkip(t);
      if (device === undefined) return;
      const tree = withFrictionAndJointClamp(await readTree(file));
      const frictionVelocity = 0.05;
      const { states, actions } = randomBatch(tree, SAMPLES, 9);
      const { deriv } = await runTree(device, tree, frictionVelocity, states, actions);
      const want32 = new Float32Array(states.length);
      articulatedBodyDerivatives(tree, { frictionVelocity })(states, actions, want32, SAMPLES);
      const nq = tree.nq;
      const want = new Float64Array(SAMPLES * nq);
      for (let k = 0; k < SAMPLES; k++) for (let d = 0; d < nq; d++) want[k * nq + d] = want32[k * 2 * nq + nq + d]!;
      const { error, sample } = worstRelativeError(deriv, 2 * nq, nq, want, nq);
      t.diagnostic(`${name}: worst relative error against the TypeScript twin ${error.toExponential(2)} (sample ${sample})`);
      assert.ok(error <= DERIV_TOL, `worst relative error ${error.toExponential(2)} at sample ${sample}`);
      // The friction and the clamp matter: without them the twin is far off.
      const plain = new Float32Array(states.length);
      articulatedBodyDerivatives(await readTree(file), { frictionVelocity })(states, actions, plain, SAMPLES);
      assert.ok(worstRelativeError(plain, 2 * nq, nq, want, nq).error > 100 * DERIV_TOL, 'the added friction and clamp change the accelerations');
    });
  }

  it('test/models/rigid-body/branching-tree.xml: every site and body as a point, against PointKinematics', async (t) => {
    const device = deviceOrSkip(t);
    if (device === undefined) return;
    const tree = await readTree(files.at(-1)!);
    const points = tree.points;
    assert.ok(points.some((p) => p.kind === 'site') && points.some((p) => p.node < 0 || p.node > 3), 'sites and deep bodies are among the points');
    const { states, actions } = randomBatch(tree, SAMPLES, 13);
    const { rows, width } = await runTree(device, tree, DEFAULT_FRICTION_VELOCITY, states, actions, points);
    const nx = 2 * tree.nq;
    const want = new Float32Array(SAMPLES * width);
    for (let k = 0; k < SAMPLES; k++) want.set(states.subarray(k * nx, (k + 1) * nx), k * width);
    new PointKinematics(tree, points).compute(states, SAMPLES, want, width, nx);
    let worst = 0;
    for (let k = 0; k < SAMPLES; k++) {
      for (let j = 0; j < width; j++) {
        const w = want[k * width + j]!;
        const e = Math.abs(rows[k * width + j]! - w) / Math.max(1, Math.abs(w));
        if (j < nx) assert.equal(rows[k * width + j], w, 'the state is copied as it is');
        worst = Math.max(worst, e);
      }
    }
    t.diagnostic(`${points.length} points: worst relative difference ${worst.toExponential(2)}`);
    assert.ok(worst <= POINT_TOL, `points differ by ${worst.toExponential(2)}`);
  });
});

/** The CPU path as build-planner.ts assembles it (no residual, no planning penalties). */
function cpuCosts(config: Config, x0: Float32Array, actions: Float32Array, count: number): Float32Array {
  const H = config.planner.horizon;
  const model = buildModel(config, K);
  const engine = new RolloutEngine(model, buildTaskCost(config, model), K, H, config.control.period, actions);
  const costs = new Float32Array(K);
  engine.evaluate(x0, count, costs);
  return costs.slice(0, count);
}

function assertAgree(t: TestContext, gpu: Float32Array, cpu: Float32Array, what: string): void {
  let err = 0;
  for (let k = 0; k < cpu.length; k++) {
    assert.ok(Number.isFinite(cpu[k]!) && cpu[k]! > 0, `CPU cost ${k} is ${cpu[k]}`);
    err = Math.max(err, Math.abs(gpu[k]! - cpu[k]!) / cpu[k]!);
  }
  t.diagnostic(`${what}: max relative difference ${err.toExponential(2)}`);
  assert.ok(err < COST_TOL, `${what}: GPU and CPU costs differ by ${err.toExponential(2)} relative (tolerance ${COST_TOL})`);
  const spread = (Math.max(...cpu) - Math.min(...cpu)) / Math.max(...cpu);
  assert.ok(spread > 20 * COST_TOL, `${what}: the samples' costs spread by only ${spread}`);
}

describe('GpuRollout of the rigid-body cart-pole (config/cartpole-rigid-body.yaml) matches RolloutEngine', () => {
  const configPath = join(root, 'config', 'cartpole-rigid-body.yaml');
  const opened: GpuRollout[] = [];
  after(() => opened.forEach((g) => g.dispose()));
  /** The example config, with `edit` applied to its text (parsed from the config's folder, so its files resolve). */
  const variant = async (edit: (text: string) => string): Promise<Config> => {
    await getMujoco();
    const text = readFileSync(configPath, 'utf8');
    return parseConfigText(edit(text), configPath);
  };
  const open = async (t: TestContext, config: Config): Promise<GpuRollout | undefined> => {
    assert.equal(unsupportedFeature(config), undefined, 'the test config is one the kernel supports');
    const gpu = await GpuRollout.create(config, K);
    if (!('unsupported' in gpu)) {
      opened.push(gpu);
      return gpu;
    }
    if (REQUIRE_WEBGPU) assert.fail(`MPCD_REQUIRE_WEBGPU=1 but: ${gpu.unsupported}`);
    t.skip(gpu.unsupported);
    return undefined;
  };
  /** Uniform in [-1, 1] (the ctrl range), [H, K, nu] with nu = 1 (u). */
  const randomActions = (config: Config, seed: number): Float32Array => {
    const rng = new Rng(seed);
    return Float32Array.from({ length: config.planner.horizon * K }, () => 2 * rng.uniform() - 1);
  };
  // Hanging, with a little motion, as the scenario starts; and near upright.
  const hanging = Float32Array.from([0.05, 3.1, -0.02, 0.1]);
  const upright = Float32Array.from([0, 0.3, 0, -0.5]);

  it('the example config as it is (RK4, one substep, H = 50), K = 1024 and 777', async (t) => {
    const { config } = await loadConfig(configPath);
    assert.equal(config.model.kind, 'rigid_body');
    const gpu = await open(t, config);
    if (gpu === undefined) return;
    t.diagnostic(`adapter: ${gpu.adapterName}`);
    const actions = randomActions(config, 21);
    for (const count of [K, ODD_COUNT]) {
      const got = new Float32Array(K).fill(-1);
      await gpu.evaluate(hanging, actions, count, got);
      assert.ok(got.subarray(count).every((c) => c === -1), 'costs at and beyond count are left alone');
      assertAgree(t, got.slice(0, count), cpuCosts(config, hanging, actions, count), `hanging, K=${count}`);
    }
    const got = new Float32Array(K);
    await gpu.evaluate(upright, actions, K, got);
    assertAgree(t, got, cpuCosts(config, upright, actions, K), 'near upright');
  });

  it('semi-implicit Euler with 4 substeps', async (t) => {
    const config = await variant((text) => text.replace('integrator: rk4', 'integrator: semi_implicit_euler').replace('substeps: 1', 'substeps: 4'));
    assert.ok(config.model.integrator === 'semi_implicit_euler' && config.model.substeps === 4);
    const gpu = await open(t, config);
    if (gpu === undefined) return;
    const actions = randomActions(config, 22);
    const got = new Float32Array(K);
    await gpu.evaluate(hanging, actions, K, got);
    assertAgree(t, got, cpuCosts(config, hanging, actions, K), 'semi-implicit Euler');
  });

  it('task.points: costs on the pole tip (a site) and the cart (a body), positions and velocities', async (t) => {
    const config = await variant((text) =>
      text
        .replace('task:\n', 'task:\n  points: { tip: { site: tip }, cart: { body: cart } }\n')
        .replace(
          '    - kind: state_bounds',
          '    - { kind: expression, expr: "(tip_z - 1)^2 + 0.1*tip_x_dot^2 + 0.05*tip_z_dot^2 + 0.01*cart_x_dot^2", weight: 2, terminal_weight: 4 }\n' +
            '    - { kind: quadratic, weights: { tip_x: 1, cart_x: 0.5 }, target: { tip_x: 0.2 }, weight: 1 }\n' +
            '    - kind: state_bounds',
        ),
    );
    assert.deepEqual(Object.keys(config.task.points), ['tip', 'cart']);
    assert.equal(config.task.cost.length, 4);
    const gpu = await open(t, config);
    if (gpu === undefined) return;
    const actions = randomActions(config, 23);
    const got = new Float32Array(K);
    await gpu.evaluate(hanging, actions, K, got);
    const cpu = cpuCosts(config, hanging, actions, K);
    assertAgree(t, got, cpu, 'with points');
    // The point costs matter: the config without them prices the samples far apart from this.
    const { config: plain } = await loadConfig(configPath);
    const without = cpuCosts(plain, hanging, actions, K);
    assert.ok(cpu.some((c, k) => Math.abs(c - without[k]!) > 100 * COST_TOL * c), 'the point terms change the costs');
  });
});
