import type { CostTerm } from './cost-term.js';
import type { DerivedStates } from './derived-states.js';
import { LiveParamValues } from './task-params.js';

/**
 * A task's whole cost: the sum of its terms. Keeps per-term totals of the last evaluation for
 * diagnostics. Layouts as in CostTerm; with `derived` values, every term sees each state row
 * extended by them, [state (nx) | derived], assembled here in scratch sized for `maxBatch` rows.
 */
export class TaskCost {
  /** Per term: what it added during the last running + terminal evaluations since `clearTotals`. */
  readonly totals: Float64Array;
  private readonly extended: Float32Array | undefined; // [maxBatch, nx + derived]
  private readonly width: number;

  constructor(
    readonly terms: readonly CostTerm[],
    /** The live params the terms read; write them between evaluations only. */
    readonly live: LiveParamValues = new LiveParamValues({ params: {} }),
    private readonly derived?: { values: DerivedStates; nx: number; maxBatch: number },
  ) {
    this.totals = new Float64Array(terms.length);
    this.width = derived === undefined ? 0 : derived.nx + derived.values.names.length;
    this.extended = derived === undefined ? undefined : new Float32Array(Math.max(1, derived.maxBatch) * this.width);
  }

  clearTotals(): void {
    this.totals.fill(0);
  }

  /** The rows the terms see: `states` itself, or each row extended by the derived values. */
  withDerived(states: Float32Array, count: number): Float32Array {
    const { derived, extended, width } = this;
    if (derived === undefined || extended === undefined) return states;
    if (count * width > extended.length) throw new RangeError(`TaskCost: ${count} rows, scratch for ${extended.length / width}`);
    const nx = derived.nx;
    for (let k = 0; k < count; k++) for (let i = 0; i < nx; i++) extended[k * width + i] = states[k * nx + i]!;
    derived.values.compute(states, count, extended, width, nx);
    return extended;
  }

  addRunning(states: Float32Array, actions: Float32Array, count: number, costs: Float32Array): void {
    const { terms, totals } = this;
    const rows = this.withDerived(states, count);
    for (let i = 0; i < terms.length; i++) totals[i] = totals[i]! + terms[i]!.addRunning(rows, actions, count, costs);
  }

  addTerminal(states: Float32Array, actions: Float32Array, count: number, costs: Float32Array): void {
    const { terms, totals } = this;
    const rows = this.withDerived(states, count);
    for (let i = 0; i < terms.length; i++) totals[i] = totals[i]! + terms[i]!.addTerminal(rows, actions, count, costs);
  }

  /** Running cost of one real transition (s' reached by a), for episode bookkeeping. */
  stepCost(nextState: Float32Array, action: Float32Array, scratch: Float32Array): number {
    scratch[0] = 0;
    const row = this.withDerived(nextState, 1);
    for (const term of this.terms) term.addRunning(row, action, 1, scratch);
    return scratch[0]!;
  }
}
