import type { TaskCost } from '../costs/task-cost.js';
import type { Transition } from '../log/transition-schema.js';
import { FILTER_FLAG_MASK } from '../safety/action-filter.js';
import type { ControlStep } from './control-loop.js';

/**
 * Pairs consecutive control steps into transitions (s, a, s'), prices each with the task's
 * running cost, and hands it to a sink (the transition log). The tap of the pipeline.
 */
export class TransitionRecorder {
  private prev: ControlStep | undefined;
  private readonly costScratch = new Float32Array(1);
  count = 0;
  totalCost = 0;

  constructor(
    private readonly cost: TaskCost,
    private readonly sink: (tr: Transition) => void,
    private readonly episode: number,
    /** Seconds added to the plant's stamps so t runs on across episodes. */
    private readonly timeOffset: number,
    /** Version of the model in use now; read right after each step is planned. */
    private readonly modelVersion: () => number = () => 0,
  ) {}

  private prevVersion = 0; // the version that planned prev.action

  onStep(step: ControlStep): void {
    const prev = this.prev;
    const prevVersion = this.prevVersion;
    this.prev = step;
    // Called in the pipeline's tap, synchronously after `step` was planned: no swap in between.
    this.prevVersion = this.modelVersion();
    if (prev === undefined || prev.action === undefined) return;
    const cost = this.cost.stepCost(step.state, prev.action, this.costScratch);
    this.sink({
      t: this.timeOffset + prev.stateStamp,
      episode: this.episode,
      step: this.count,
      state: Array.from(prev.state),
      action: Array.from(prev.action),
      next_state: Array.from(step.state),
      cost,
      // The filter's bits describe a (prev); the drop and end bits describe how s' was reached.
      flags: prev.flags | (step.flags & ~FILTER_FLAG_MASK),
      model_version: prevVersion,
    });
    this.count++;
    this.totalCost += cost;
  }
}
