import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { buildTaskCost } from '../costs/build-task-cost.js';
import { LiveParamValues } from '../costs/task-params.js';
import { buildModel } from '../models/build-model.js';
import { HybridModel } from '../models/hybrid-model.js';
import { prepareResidualKernel } from '../models/residual/prepare-kernel.js';
import { ResidualPredictor } from '../models/residual/residual-predictor.js';
import { ValuePredictor } from '../models/value/value-predictor.js';
import { pinThisThread } from '../core/cpu-affinity.js';
import { createLogger } from '../telemetry/logger.js';
import { buildRolloutEngine } from './build-rollout-engine.js';
import { Slot, SLOTS, WorkerState, type ModelUpdate, type RolloutWorkerInit } from './rollout-channel.js';

/**
 * A rollout worker: owns a copy of the model and cost, sleeps on its job slot, and prices its
 * share of the samples into the shared cost array. It never returns to its event loop while
 * serving, so model updates are drained from its port synchronously.
 */
const init = workerData as RolloutWorkerInit;
const ctrl = new Int32Array(init.control);
const row = init.index * SLOTS;

function fail(err: unknown, slot: number, value: number): void {
  init.port.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  Atomics.store(ctrl, row + slot, value);
}

async function serve(): Promise<void> {
  const { config, maxShare, maxSamples } = init;
  pinThisThread(config.planner.cpus, 'planner.cpus', createLogger('mpcd-rollout'));
  const H = config.planner.horizon;
  let engine;
  let model;
  try {
    await prepareResidualKernel(config);
    model = buildModel(config, maxShare);
    const cost = buildTaskCost(config, model, new LiveParamValues(config.task, init.liveParams));
    engine = buildRolloutEngine(config, model, cost, maxShare, new Float32Array(H * maxShare * model.actionNames.length));
  } catch (err) {
    fail(err, Slot.state, WorkerState.failed);
    Atomics.notify(ctrl, row + Slot.state);
    return;
  }
  const nu = engine.actionDim;
  const local = engine.actions; // [H, maxShare, nu]
  const shared = new Float32Array(init.actions); // [H, maxSamples, nu]
  const sharedCosts = new Float32Array(init.costs); // [maxSamples]
  const x0 = new Float32Array(init.x0); // [nx]
  const localX0 = new Float32Array(x0.length);
  const localCosts = new Float32Array(maxShare);
  let applied = 0;
  const applyUpdates = (needed: number): void => {
    while (applied < needed) {
      const msg = receiveMessageOnPort(init.port);
      if (msg === undefined) continue; // posted before the job was; it is on its way
      const u = msg.message as ModelUpdate;
      if (model instanceof HybridModel) {
        model.setResidual(u.residual === undefined ? undefined : new ResidualPredictor(u.residual, maxShare), u.version);
        model.setValue(u.value === undefined ? undefined : new ValuePredictor(u.value, maxShare));
      }
      applied = u.serial;
    }
  };

  Atomics.store(ctrl, row + Slot.state, WorkerState.ready);
  Atomics.notify(ctrl, row + Slot.state);
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, row + Slot.job, seen);
    if (Atomics.load(ctrl, row + Slot.stop) !== 0) return;
    const job = Atomics.load(ctrl, row + Slot.job);
    if (job === seen) continue;
    seen = job;
    try {
      applyUpdates(Atomics.load(ctrl, row + Slot.update));
      const first = Atomics.load(ctrl, row + Slot.first);
      const count = Atomics.load(ctrl, row + Slot.count);
      const total = Atomics.load(ctrl, row + Slot.total);
      // Copy this share's sequences out of the shared [H, maxSamples, nu] block.
      for (let t = 0; t < H; t++) {
        const src = (t * maxSamples + first) * nu;
        const dst = t * maxShare * nu;
        for (let i = 0; i < count * nu; i++) local[dst + i] = shared[src + i]!;
      }
      for (let i = 0; i < x0.length; i++) localX0[i] = x0[i]!;
      if (count > 0) engine.evaluate(localX0, count, localCosts, first, total); // 0: a model update only
      for (let k = 0; k < count; k++) sharedCosts[first + k] = localCosts[k]!;
      Atomics.store(ctrl, row + Slot.failed, 0);
    } catch (err) {
      fail(err, Slot.failed, 1);
    }
    Atomics.store(ctrl, row + Slot.done, seen);
    Atomics.notify(ctrl, row + Slot.done);
  }
}

await serve();
init.port.close();
