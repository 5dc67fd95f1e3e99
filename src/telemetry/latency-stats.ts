/**
 * Keeps every sample of a latency (ms) in a growable Float64Array and reports percentiles.
 * One run's worth of ticks is small (a day at 50 Hz is 4.3 M doubles, 35 MB), so exact
 * percentiles beat an approximate sketch here.
 */
export class LatencyStats {
  private data = new Float64Array(1024);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  /** The samples in the order they came, [count]; a view, valid until the next add. */
  samples(): Float64Array {
    return this.data.subarray(0, this.n);
  }

  summary(): { p50: number; p99: number; max: number; mean: number; count: number } {
    if (this.n === 0) return { p50: 0, p99: 0, max: 0, mean: 0, count: 0 };
    const sorted = this.data.slice(0, this.n).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      max: sorted[this.n - 1]!,
      mean: sum / this.n,
      count: this.n,
    };
  }
}

/** Linear-interpolated quantile of sorted data. */
export function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
