import type { CostTerm } from './cost-term.js';

/**
 * Soft state bounds: weight * (distance outside [low, high])^2 per listed state. Zero inside,
 * so it shapes the plan only near the limits (a cart's rail, a joint's range).
 */
export class StateBounds implements CostTerm {
  private readonly index: Int32Array;
  private readonly low: Float64Array;
  private readonly high: Float64Array;

  constructor(
    readonly name: string,
    private readonly stateDim: number,
    entries: readonly { index: number; low: number; high: number }[],
    private readonly weight: number,
    private readonly terminalWeight: number,
  ) {
    this.index = Int32Array.from(entries, (e) => e.index);
    this.low = Float64Array.from(entries, (e) => e.low);
    this.high = Float64Array.from(entries, (e) => e.high);
  }

  addRunning(states: Float32Array, _actions: Float32Array, count: number, costs: Float32Array): number {
    return this.accumulate(states, count, this.weight, costs);
  }

  addTerminal(states: Float32Array, _actions: Float32Array, count: number, costs: Float32Array): number {
    return this.accumulate(states, count, this.terminalWeight, costs);
  }

  private accumulate(states: Float32Array, count: number, weight: number, costs: Float32Array): number {
    if (weight === 0) return 0;
    const { index, low, high, stateDim } = this;
    let total = 0;
    for (let k = 0; k < count; k++) {
      const o = k * stateDim;
      let c = 0;
      for (let j = 0; j < index.length; j++) {
        const v = states[o + index[j]!]!;
        const below = low[j]! - v;
        const above = v - high[j]!;
        if (below > 0) c += below * below;
        else if (above > 0) c += above * above;
      }
      if (c !== 0) {
        c *= weight;
        costs[k] = costs[k]! + c;
        total += c;
      }
    }
    return total;
  }
}
