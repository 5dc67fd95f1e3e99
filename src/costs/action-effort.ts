import type { CostTerm } from './cost-term.js';

/** sum_j w_j u_j^2: penalizes actuator effort. Terminal cost is zero by definition. */
export class ActionEffort implements CostTerm {
  private readonly index: Int32Array;
  private readonly w: Float64Array;

  constructor(
    readonly name: string,
    private readonly actionDim: number,
    entries: readonly { index: number; weight: number }[],
    private readonly weight: number,
  ) {
    this.index = Int32Array.from(entries, (e) => e.index);
    this.w = Float64Array.from(entries, (e) => e.weight);
  }

  addRunning(_states: Float32Array, actions: Float32Array, count: number, costs: Float32Array): number {
    if (this.weight === 0) return 0;
    const { index, w, actionDim, weight } = this;
    let total = 0;
    for (let k = 0; k < count; k++) {
      const o = k * actionDim;
      let c = 0;
      for (let j = 0; j < index.length; j++) {
        const u = actions[o + index[j]!]!;
        c += w[j]! * u * u;
      }
      c *= weight;
      costs[k] = costs[k]! + c;
      total += c;
    }
    return total;
  }

  addTerminal(): number {
    return 0;
  }
}
