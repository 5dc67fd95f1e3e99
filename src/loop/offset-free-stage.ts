import { from, map } from 'rxjs';
import type { InputDisturbanceObserver } from '../estimation/input-disturbance-observer.js';
import type { PlanStage } from './control-loop.js';

/**
 * A planning stage in the model's actions behind an input-disturbance observer: before each plan
 * the observer learns from the state the last action led to (when the ticks were consecutive),
 * and the plan's action goes out as u - offset. The caller tells the observer each step's state
 * and sent action (remember) after the action filter, so it learns from what the plant got.
 */
export function offsetFreeStage(stage: PlanStage, observer: InputDisturbanceObserver): PlanStage {
  let sent: Float32Array | undefined;
  return (state, elapsed) => {
    if (elapsed === 1) observer.observe(state);
    else observer.forgetStep();
    return from(stage(state, elapsed)).pipe(
      map(({ action, planMs }) => {
        sent ??= new Float32Array(action.length);
        observer.toPlant(action, sent);
        return { action: sent, planMs };
      }),
    );
  };
}
