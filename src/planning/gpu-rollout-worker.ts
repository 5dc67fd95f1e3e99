import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { GpuRollout } from '../gpu/gpu-rollout.js';
import { Slot, SLOTS, WorkerState, type ModelUpdate, type RolloutWorkerInit } from './rollout-channel.js';

/**
 * The GPU's rollout worker: the same job slots as a CPU worker, but it prices a whole
 * population at once on a WebGPU device. WebGPU completes work through promises, so each job is
 * awaited and this thread's event loop turns while the device works; between jobs it blocks on
 * its job slot like a CPU worker (Atomics.waitAsync would be nicer, but its wake-up never arrives
 * while the planner's thread is blocked waiting for the job).
 */
const init = workerData as RolloutWorkerInit;
const ctrl = new Int32Array(init.control);
const row = init.index * SLOTS;

function report(slot: number, value: number, message: object): void {
  init.port.postMessage(message);
  Atomics.store(ctrl, row + slot, value);
  Atomics.notify(ctrl, row + slot);
}

async function serve(): Promise<void> {
  let gpu: GpuRollout;
  try {
    // The live params (goals) the planner's thread writes between jobs; the rollout reads them per job.
    const made = await GpuRollout.create(init.config, init.maxSamples, init.liveParams);
    if (!(made instanceof GpuRollout)) return report(Slot.state, WorkerState.failed, { error: made.unsupported });
    gpu = made;
  } catch (err) {
    return report(Slot.state, WorkerState.failed, { error: err instanceof Error ? err.message : String(err) });
  }
  // Dawn's bindings cannot read from or write into shared memory (they hang or crash), so each
  // job is copied through buffers of this thread's own.
  const sharedActions = new Float32Array(init.actions); // [H, maxSamples, nu]
  const sharedCosts = new Float32Array(init.costs); // [maxSamples]
  const sharedX0 = new Float32Array(init.x0); // [nx]
  const actions = new Float32Array(sharedActions.length);
  const costs = new Float32Array(sharedCosts.length);
  const x0 = new Float32Array(sharedX0.length);
  try {
    // The first dispatch compiles the kernel (tens of seconds on a CPU Vulkan driver): do it now,
    // while the daemon starts, not in the first control tick.
    await gpu.evaluate(x0, actions, 1, costs);
  } catch (err) {
    return report(Slot.state, WorkerState.failed, { error: err instanceof Error ? err.message : String(err) });
  }
  let applied = 0;
  report(Slot.state, WorkerState.ready, { adapter: gpu.adapterName });
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, row + Slot.job, seen);
    if (Atomics.load(ctrl, row + Slot.stop) !== 0) break;
    const job = Atomics.load(ctrl, row + Slot.job);
    if (job === seen) continue;
    seen = job;
    try {
      const needed = Atomics.load(ctrl, row + Slot.update);
      while (applied < needed) {
        const msg = receiveMessageOnPort(init.port);
        if (msg === undefined) continue; // posted before the job was; it is on its way
        const u = msg.message as ModelUpdate;
        gpu.setResidual(u.residual);
        applied = u.serial;
      }
      // The GPU prices the whole population: a job's share is all of it.
      const count = Atomics.load(ctrl, row + Slot.count);
      actions.set(sharedActions);
      x0.set(sharedX0);
      await gpu.evaluate(x0, actions, count, costs);
      for (let k = 0; k < count; k++) sharedCosts[k] = costs[k]!;
      Atomics.store(ctrl, row + Slot.failed, 0);
    } catch (err) {
      init.port.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      Atomics.store(ctrl, row + Slot.failed, 1);
    }
    Atomics.store(ctrl, row + Slot.done, seen);
    Atomics.notify(ctrl, row + Slot.done);
  }
  gpu.dispose();
  init.port.close();
}

await serve();
