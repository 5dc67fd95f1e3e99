import type { Transition } from '../log/transition-schema.js';
import { TransitionFlags } from '../log/transition-schema.js';

/** Transitions that are not one clean control period of (s, a, s') and must not train a model. */
export const UNTRAINABLE_FLAGS = TransitionFlags.stale_state | TransitionFlags.ticks_dropped_before;

/**
 * The transitions a refit learns from, in arrival order, as one flat ring of rows
 * [capacity, nx + nu + nx] = (s, a, s'). When full, the oldest rows are overwritten.
 * Fed with every logged transition (and, at start, with the logs already on disk).
 */
export class ReplayBuffer {
  readonly rowSize: number;
  private readonly rows: Float32Array; // [capacity, nx + nu + nx]
  private readonly scratch: Float32Array; // [nx + nu + nx], one incoming row
  private head = 0; // next row to write
  private filled = 0;
  /** Transitions ever accepted (including overwritten ones). */
  total = 0;
  /** Transitions refused: flagged untrainable or non-finite. */
  skipped = 0;

  constructor(
    readonly stateDim: number,
    readonly actionDim: number,
    readonly capacity: number,
  ) {
    this.rowSize = 2 * stateDim + actionDim;
    this.rows = new Float32Array(capacity * this.rowSize);
    this.scratch = new Float32Array(this.rowSize);
  }

  get size(): number {
    return this.filled;
  }

  add(tr: Pick<Transition, 'state' | 'action' | 'next_state' | 'flags'>): boolean {
    const { stateDim: nx, actionDim: nu } = this;
    if ((tr.flags & UNTRAINABLE_FLAGS) !== 0 || tr.state.length !== nx || tr.action.length !== nu || tr.next_state.length !== nx) {
      this.skipped++;
      return false;
    }
    // Checked in a scratch row: when full, the slot at head still holds the oldest row.
    const row = this.scratch;
    for (let i = 0; i < nx; i++) row[i] = tr.state[i]!;
    for (let j = 0; j < nu; j++) row[nx + j] = tr.action[j]!;
    for (let i = 0; i < nx; i++) row[nx + nu + i] = tr.next_state[i]!;
    for (let i = 0; i < this.rowSize; i++)
      if (!Number.isFinite(row[i]!)) {
        this.skipped++;
        return false;
      }
    this.rows.set(row, this.head * this.rowSize);
    this.head = (this.head + 1) % this.capacity;
    this.filled = Math.min(this.filled + 1, this.capacity);
    this.total++;
    return true;
  }

  /** A copy of every held row, oldest first: [size, rowSize]. Safe to transfer to a worker. */
  snapshot(): Float32Array {
    const out = new Float32Array(this.filled * this.rowSize);
    const start = (this.head - this.filled + this.capacity) % this.capacity;
    const firstPart = Math.min(this.filled, this.capacity - start);
    out.set(this.rows.subarray(start * this.rowSize, (start + firstPart) * this.rowSize), 0);
    if (firstPart < this.filled) out.set(this.rows.subarray(0, (this.filled - firstPart) * this.rowSize), firstPart * this.rowSize);
    return out;
  }
}
