import type { HybridModel } from '../models/hybrid-model.js';
import type { CostTerm } from './cost-term.js';

/**
 * weight * V(s_H): the learned cost-to-go beyond the horizon, from the value the hybrid model
 * carries (none yet: adds nothing). Planning-only, like UncertaintyPenalty.
 */
export class ValueTerminalCost implements CostTerm {
  readonly name = 'value';
  private readonly scratch: Float32Array; // [maxBatch]

  constructor(
    private readonly model: HybridModel,
    private readonly weight: number,
  ) {
    this.scratch = new Float32Array(model.maxBatch);
  }

  addRunning(): number {
    return 0;
  }

  addTerminal(states: Float32Array, _actions: Float32Array, count: number, costs: Float32Array): number {
    const v = this.model.value;
    if (v === undefined || this.weight === 0) return 0;
    v.predict(states, count, this.scratch);
    let total = 0;
    for (let k = 0; k < count; k++) {
      const c = this.weight * this.scratch[k]!;
      costs[k] = costs[k]! + c;
      total += c;
    }
    return total;
  }
}
