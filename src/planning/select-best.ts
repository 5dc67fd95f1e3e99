/**
 * Moves the `m` lowest-cost of the samples order[0..n) to order[0..m), in ascending cost (ties by
 * sample index, so the result is the first m of a stable sort), without allocating: TypedArray
 * sort with a comparator copies the array on every call, and a planner must not allocate per
 * tick. Quickselect (median of three) then an insertion sort of the m chosen: O(n + m^2).
 * costs [>= max index + 1], order [>= n].
 */
/** Sample a before sample b: lower cost, then lower index. */
function less(costs: Float32Array, a: number, b: number): boolean {
  return costs[a]! < costs[b]! || (costs[a]! === costs[b]! && a < b);
}

export function selectBest(order: Int32Array, n: number, m: number, costs: Float32Array): void {
  m = Math.min(m, n);
  let lo = 0;
  let hi = n - 1;
  while (hi > lo && m < n) {
    // Median of three as the pivot, kept in a local: order[] is rearranged below.
    const mid = (lo + hi) >>> 1;
    const a = order[lo]!;
    const b = order[mid]!;
    const c = order[hi]!;
    const pivot = less(costs, a, b) ? (less(costs, b, c) ? b : less(costs, a, c) ? c : a) : less(costs, a, c) ? a : less(costs, b, c) ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (less(costs, order[i]!, pivot)) i++;
      while (less(costs, pivot, order[j]!)) j--;
      if (i <= j) {
        const t = order[i]!;
        order[i++] = order[j]!;
        order[j--] = t;
      }
    }
    // [lo, j] <= pivot <= [i, hi]: keep the side holding position m - 1.
    if (m - 1 <= j) hi = j;
    else if (m - 1 >= i) lo = i;
    else break;
  }
  for (let i = 1; i < m; i++) {
    const v = order[i]!;
    let j = i - 1;
    while (j >= 0 && less(costs, v, order[j]!)) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = v;
  }
}
