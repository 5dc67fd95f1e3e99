import type { CostTerm } from './cost-term.js';

/**
 * A task's whole cost: the sum of its terms. Keeps per-term totals of the last evaluation for
 * diagnostics. Layouts as in CostTerm.
 */
export class TaskCost {
  /** Per term: what it added during the last running + terminal evaluations since `clearTotals`. */
  readonly totals: Float64Array;

  constructor(readonly terms: readonly CostTerm[]) {
    this.totals = new Float64Array(terms.length);
  }

  clearTotals(): void {
    this.totals.fill(0);
  }

  addRunning(states: Float32Array, actions: Float32Array, count: number, costs: Float32Array): void {
    const { terms, totals } = this;
    for (let i = 0; i < terms.length; i++) totals[i] = totals[i]! + terms[i]!.addRunning(states, actions, count, costs);
  }

  addTerminal(states: Float32Array, actions: Float32Array, count: number, costs: Float32Array): void {
    const { terms, totals } = this;
    for (let i = 0; i < terms.length; i++) totals[i] = totals[i]! + terms[i]!.addTerminal(states, actions, count, costs);
  }

  /** Running cost of one real transition (s' reached by a), for episode bookkeeping. */
  stepCost(nextState: Float32Array, action: Float32Array, scratch: Float32Array): number {
    scratch[0] = 0;
    for (const term of this.terms) term.addRunning(nextState, action, 1, scratch);
    return scratch[0]!;
  }
}
