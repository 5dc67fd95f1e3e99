import type { Observation, PlantPort } from '../io/plant.js';

/**
 * Latest-value state assembly: each channel's newest reading fills its slots of the state
 * vector, and each channel keeps its own timestamp, so staleness is known per channel.
 * A reading older than the one already held (a late or duplicated message) is ignored.
 */
export class StateAssembler {
  readonly state: Float32Array; // [nx]
  private readonly slots = new Map<string, { slots: readonly number[]; stamp: number; seen: boolean; unread: boolean }>();
  /** Readings dropped: unknown channel, wrong length, non-finite value, or older than held. */
  rejected = 0;

  /** `counters.superseded` counts readings replaced by a newer one before `markRead` (newest wins: a flood costs nothing else). */
  constructor(
    stateDim: number,
    channels: PlantPort['channels'],
    private readonly counters: { superseded: number } = { superseded: 0 },
  ) {
    this.state = new Float32Array(stateDim);
    for (const c of channels) this.slots.set(c.name, { slots: c.slots, stamp: -Infinity, seen: false, unread: false });
  }

  /** A control tick read `state`: every reading held so far was used. */
  markRead(): void {
    for (const c of this.slots.values()) c.unread = false;
  }

  /** Every channel has delivered at least one reading. */
  get complete(): boolean {
    for (const c of this.slots.values()) if (!c.seen) return false;
    return true;
  }

  /** Stamp of the oldest channel (the age that matters for a watchdog). */
  get oldestStamp(): number {
    let oldest = Infinity;
    for (const c of this.slots.values()) oldest = Math.min(oldest, c.stamp);
    return oldest;
  }

  /** Forget every reading (a new episode). */
  clear(): void {
    for (const c of this.slots.values()) {
      c.stamp = -Infinity;
      c.seen = false;
      c.unread = false;
    }
  }

  accept(obs: Observation): boolean {
    const c = this.slots.get(obs.channel);
    if (c === undefined || obs.values.length !== c.slots.length || obs.stamp < c.stamp) {
      this.rejected++;
      return false;
    }
    for (let i = 0; i < c.slots.length; i++) {
      if (!Number.isFinite(obs.values[i]!)) {
        this.rejected++;
        return false;
      }
    }
    for (let i = 0; i < c.slots.length; i++) this.state[c.slots[i]!] = obs.values[i]!;
    if (c.unread) this.counters.superseded++;
    c.stamp = obs.stamp;
    c.seen = true;
    c.unread = true;
    return true;
  }
}
