import { wrapAngle } from '../core/angles.js';
import type { CostTerm } from './cost-term.js';

/**
 * sum_i w_i (s_i - target_i)^2 over the listed states; angle errors are wrapped so that
 * theta = 2*pi counts as theta = 0.
 */
export class QuadraticTracking implements CostTerm {
  private readonly index: Int32Array;
  private readonly target: Float64Array;
  private readonly w: Float64Array;
  private readonly isAngle: Uint8Array;

  constructor(
    readonly name: string,
    private readonly stateDim: number,
    entries: readonly { index: number; target: number; weight: number; angular: boolean }[],
    private readonly weight: number,
    private readonly terminalWeight: number,
  ) {
    this.index = Int32Array.from(entries, (e) => e.index);
    this.target = Float64Array.from(entries, (e) => e.target);
    this.w = Float64Array.from(entries, (e) => e.weight);
    this.isAngle = Uint8Array.from(entries, (e) => (e.angular ? 1 : 0));
  }

  addRunning(states: Float32Array, _actions: Float32Array, count: number, costs: Float32Array): number {
    return this.accumulate(states, count, this.weight, costs);
  }

  addTerminal(states: Float32Array, _actions: Float32Array, count: number, costs: Float32Array): number {
    return this.accumulate(states, count, this.terminalWeight, costs);
  }

  private accumulate(states: Float32Array, count: number, weight: number, costs: Float32Array): number {
    if (weight === 0) return 0;
    const { index, target, w, isAngle, stateDim } = this;
    const n = index.length;
    let total = 0;
    for (let k = 0; k < count; k++) {
      const o = k * stateDim;
      let c = 0;
      for (let j = 0; j < n; j++) {
        let e = states[o + index[j]!]! - target[j]!;
        if (isAngle[j] === 1) e = wrapAngle(e);
        c += w[j]! * e * e;
      }
      c *= weight;
      costs[k] = costs[k]! + c;
      total += c;
    }
    return total;
  }
}
