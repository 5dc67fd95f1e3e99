import type { HybridModel } from '../models/hybrid-model.js';
import type { CostTerm } from './cost-term.js';

/**
 * weight * (members' disagreement) at each horizon step: steers plans away from where the
 * residual ensemble has not seen data. A planning-only term: it reads the disagreement the
 * hybrid model computed for the rollout step just taken, so it must run right after that step
 * and never prices a real transition.
 */
export class UncertaintyPenalty implements CostTerm {
  readonly name = 'uncertainty';

  constructor(
    private readonly model: HybridModel,
    private readonly weight: number,
  ) {
    model.trackDisagreement = weight > 0;
  }

  addRunning(_states: Float32Array, _actions: Float32Array, count: number, costs: Float32Array): number {
    const d = this.model.disagreement;
    let total = 0;
    for (let k = 0; k < count; k++) {
      const c = this.weight * d[k]!;
      costs[k] = costs[k]! + c;
      total += c;
    }
    return total;
  }

  addTerminal(): number {
    return 0;
  }
}
