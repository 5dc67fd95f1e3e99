import type { Config } from '../config/schema.js';
import type { EnsembleSnapshot } from '../models/residual/ensemble-snapshot.js';
import { openGpuDevice, type Unsupported } from './open-gpu-device.js';
import { buildRolloutKernel, type RolloutKernel } from './rollout-kernel.js';
import { BufferUsage, MapMode, type GpuBindGroup, type GpuBuffer, type GpuComputePipeline, type GpuDevice } from './webgpu-api.js';
import { packResidualWeights } from './wgsl-residual.js';

/** What RolloutEngine gives a rollout whose cost is not finite: it must lose, not poison the weights. */
const DIVERGED_COST = 3.4e38;
/** WebGPU's default maxComputeWorkgroupsPerDimension. */
const MAX_WORKGROUPS = 65535;

interface Buffers {
  readonly run: GpuBuffer; // uniform Run (rollout-kernel.ts)
  readonly actions: GpuBuffer; // [horizon, maxSamples, nu]
  readonly params: GpuBuffer; // [param slots]
  readonly weights: GpuBuffer | undefined; // [elite slots, memberFloats]
  readonly costs: GpuBuffer; // [maxSamples]
  readonly readback: GpuBuffer; // [maxSamples], mappable
}

/**
 * RolloutEngine.evaluate on a WebGPU device: the config's analytic model, integrator, residual
 * ensemble and task cost compiled into one kernel (rollout-kernel.ts), one invocation per sample.
 * Every GPU buffer is created once at full size; an evaluation is buffer writes, one dispatch,
 * one copy and one map of the costs. The task's live params are read at each evaluation: the
 * params buffer's slots that mirror them are rewritten when a value changed since the last one.
 */
export class GpuRollout {
  readonly stateDim: number;
  readonly actionDim: number;
  readonly horizon: number;
  private members = 0;
  private inFlight = false;
  private disposed = false;
  private readonly runData: ArrayBuffer;
  private readonly runU32: Uint32Array; // [count, members, block, groups per member]
  private readonly runX0: Float32Array; // [4 * ceil(nx / 4)]
  private readonly packed: Float32Array | undefined; // [elite slots, memberFloats]
  private readonly params: Float32Array; // [param slots] what the params buffer holds

  private constructor(
    private readonly device: GpuDevice,
    readonly adapterName: string,
    private readonly kernel: RolloutKernel,
    private readonly pipeline: GpuComputePipeline,
    private readonly bindGroup: GpuBindGroup,
    private readonly buffers: Buffers,
  ) {
    this.stateDim = kernel.stateDim;
    this.actionDim = kernel.actionDim;
    this.horizon = kernel.horizon;
    this.runData = new ArrayBuffer(buffers.run.size);
    this.runU32 = new Uint32Array(this.runData, 0, 4);
    this.runX0 = new Float32Array(this.runData, 16);
    const r = kernel.residual;
    this.packed = r === undefined ? undefined : new Float32Array(r.slots * r.memberFloats);
    this.params = kernel.params.slice();
  }

  /**
   * A rollout for `config` with room for `maxSamples` samples, or why it cannot run here: no
   * webgpu package, no adapter, buffers beyond the adapter's limits, or a cost term or model
   * feature the kernel cannot express. Throws on an invalid config, as the CPU path does.
   * `liveParams` (Float64 [live params], LiveParamValues' buffer) is where the planner's thread
   * writes the live params; without it they keep their defaults.
   */
  static async create(config: Config, maxSamples: number, liveParams?: SharedArrayBuffer): Promise<GpuRollout | Unsupported> {
    if (!Number.isInteger(maxSamples) || maxSamples < 1) throw new RangeError('maxSamples must be an integer >= 1');
    const kernel = buildRolloutKernel(config, maxSamples, liveParams);
    if ('unsupported' in kernel) return kernel;
    const bytes = {
      run: 16 + 16 * Math.ceil(kernel.stateDim / 4),
      actions: 4 * kernel.horizon * maxSamples * kernel.actionDim,
      params: 4 * kernel.params.length,
      weights: kernel.residual === undefined ? 0 : 4 * kernel.residual.slots * kernel.residual.memberFloats,
      costs: 4 * maxSamples,
    };
    // One workgroup row per member block: at most ceil(maxSamples / size) + members workgroups.
    const groups = Math.ceil(maxSamples / kernel.workgroupSize) + (kernel.residual?.slots ?? 1);
    if (groups > MAX_WORKGROUPS) return { unsupported: `${maxSamples} samples need ${groups} workgroups, more than WebGPU's ${MAX_WORKGROUPS} per dispatch` };
    const largest = Math.max(bytes.actions, bytes.params, bytes.weights, bytes.costs);
    const opened = await openGpuDevice({ largestStorageBinding: largest, largestBuffer: largest });
    if ('unsupported' in opened) return opened;
    const { device, adapterName } = opened;
    try {
      device.pushErrorScope('validation');
      const module = device.createShaderModule({ code: kernel.code, label: 'mpcd rollout' });
      const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
      if (errors.length > 0) {
        throw new Error(`internal: the generated rollout WGSL does not compile:\n${errors.map((m) => `  ${m.lineNum}:${m.linePos} ${m.message}`).join('\n')}`);
      }
      const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      const storage = (size: number, label: string, extra = 0): GpuBuffer =>
        device.createBuffer({ size: Math.max(4, size), usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | extra, label });
      const buffers: Buffers = {
        run: device.createBuffer({ size: bytes.run, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: 'run' }),
        actions: storage(bytes.actions, 'actions'),
        params: storage(bytes.params, 'params'),
        weights: kernel.residual === undefined ? undefined : storage(bytes.weights, 'residual weights'),
        costs: storage(bytes.costs, 'costs', BufferUsage.COPY_SRC),
        readback: device.createBuffer({ size: bytes.costs, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, label: 'costs readback' }),
      };
      device.queue.writeBuffer(buffers.params, 0, kernel.params);
      const entries = [
        { binding: 0, resource: { buffer: buffers.run } },
        { binding: 1, resource: { buffer: buffers.actions } },
        { binding: 2, resource: { buffer: buffers.params } },
        ...(buffers.weights === undefined ? [] : [{ binding: 3, resource: { buffer: buffers.weights } }]),
        { binding: 4, resource: { buffer: buffers.costs } },
      ];
      const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
      const error = await device.popErrorScope();
      if (error !== null) throw new Error(`internal: WebGPU rejected the rollout pipeline: ${error.message}`);
      return new GpuRollout(device, adapterName, kernel, pipeline, bindGroup, buffers);
    } catch (err) {
      device.destroy();
      throw err;
    }
  }

  /**
   * Installs a residual ensemble (or none: the analytic model alone) for the next evaluations:
   * one upload of its elites' folded weights, no recompile. Throws if the config has no
   * model.residual or the snapshot's spec differs from it.
   */
  setResidual(snapshot: EnsembleSnapshot | undefined): void {
    this.assertLive();
    if (snapshot === undefined) {
      this.members = 0;
      return;
    }
    const layout = this.kernel.residual;
    if (layout === undefined || this.packed === undefined || this.buffers.weights === undefined) {
      throw new RangeError('this rollout was built from a config without model.residual');
    }
    const n = packResidualWeights(layout, snapshot, this.packed);
    this.device.queue.writeBuffer(this.buffers.weights, 0, this.packed, 0, n * layout.memberFloats);
    this.members = n;
  }

  /**
   * Same contract as RolloutEngine.evaluate: costs[k] = total cost of sample k's sequence from
   * x0 [nx], for k < count; actions [horizon, maxSamples, nu]. One evaluation at a time.
   */
  async evaluate(x0: Float32Array, actions: Float32Array, count: number, costs: Float32Array): Promise<void> {
    this.assertLive();
    const { maxSamples, horizon, actionDim: nu } = this.kernel;
    if (this.inFlight) throw new Error('GpuRollout.evaluate: the previous evaluation has not finished');
    if (!Number.isInteger(count) || count < 0 || count > maxSamples) throw new RangeError(`count must be an integer in [0, ${maxSamples}]`);
    if (x0.length !== this.stateDim) throw new RangeError(`x0 must have ${this.stateDim} states`);
    if (actions.length !== horizon * maxSamples * nu) throw new RangeError('actions must be [H, maxSamples, nu]');
    if (costs.length < count) throw new RangeError('costs must hold count values');
    if (count === 0) return;
    const { device, buffers } = this;
    // Sample k uses member floor(k / block), as ResidualPredictor splits samples.
    const members = Math.max(this.members, 1);
    const block = Math.ceil(count / members);
    const groupsPerMember = Math.ceil(block / this.kernel.workgroupSize);
    this.runU32[0] = count;
    this.runU32[1] = this.members;
    this.runU32[2] = block;
    this.runU32[3] = groupsPerMember;
    this.runX0.set(x0);
    device.queue.writeBuffer(buffers.run, 0, this.runData);
    this.writeLive();
    // Only the first `count` rows of each step's block are read; send just those.
    const stepBlock = maxSamples * nu;
    if (count === maxSamples) device.queue.writeBuffer(buffers.actions, 0, actions);
    else for (let t = 0; t < horizon; t++) device.queue.writeBuffer(buffers.actions, 4 * t * stepBlock, actions, t * stepBlock, count * nu);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(members * groupsPerMember);
    pass.end();
    encoder.copyBufferToBuffer(buffers.costs, 0, buffers.readback, 0, 4 * count);
    device.queue.submit([encoder.finish()]);
    this.inFlight = true;
    try {
      await buffers.readback.mapAsync(MapMode.READ, 0, 4 * count);
      costs.set(new Float32Array(buffers.readback.getMappedRange(0, 4 * count)));
      buffers.readback.unmap();
    } finally {
      this.inFlight = false;
    }
    for (let k = 0; k < count; k++) if (!Number.isFinite(costs[k]!)) costs[k] = DIVERGED_COST;
  }

  /**
   * Rewrites the params buffer's live slots whose value changed: one write of the range they
   * span (the slots between hold the constants already there). The values are read here, on the
   * JavaScript side, since Dawn cannot read shared memory; `params` is this thread's copy.
   */
  private writeLive(): void {
    const { params } = this;
    const { liveSlots, live } = this.kernel;
    let first = params.length;
    let last = -1;
    for (let i = 0; i < liveSlots.length; i += 2) {
      const slot = liveSlots[i]!;
      const value = Math.fround(live.values[liveSlots[i + 1]!]!);
      if (Object.is(params[slot], value)) continue;
      params[slot] = value;
      first = Math.min(first, slot);
      last = Math.max(last, slot);
    }
    if (last >= first) this.device.queue.writeBuffer(this.buffers.params, 4 * first, params, first, last - first + 1);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of Object.values(this.buffers) as (GpuBuffer | undefined)[]) b?.destroy();
    this.device.destroy();
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('GpuRollout used after dispose()');
  }
}
