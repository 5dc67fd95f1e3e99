/**
 * The kernel's real-valued parameters (model constants, integrator steps, cost weights, targets,
 * task params and expression literals) as one float32 storage buffer, so the WGSL holds no
 * number that a config could change. Slot 0 holds NaN and slot 1 +Infinity: WGSL cannot write
 * them as constants, and the math helpers need them at run time. Some slots mirror a live param
 * (live-params.ts): the rollout rewrites them when the value changes, between dispatches.
 */
export class ParamBlock {
  private readonly values: number[] = [Number.NaN, Number.POSITIVE_INFINITY];
  /** live index -> slot */
  private readonly live = new Map<number, number>();

  /** Appends `value` and returns the WGSL that reads it. */
  ref(value: number): string {
    this.values.push(value);
    return `P[${this.values.length - 1}]`;
  }

  /** The WGSL that reads live param `liveIndex`, whose value is `value` now: one slot per live param. */
  liveRef(liveIndex: number, value: number): string {
    let slot = this.live.get(liveIndex);
    if (slot === undefined) {
      slot = this.values.push(value) - 1;
      this.live.set(liveIndex, slot);
    }
    return `P[${slot}]`;
  }

  /** The buffer's contents [slots], rounded to float32. */
  data(): Float32Array {
    return Float32Array.from(this.values);
  }

  /** [live slots, 2]: the slot, and the live index it mirrors. */
  liveSlots(): Int32Array {
    return Int32Array.from([...this.live].flatMap(([live, slot]) => [slot, live]));
  }
}

export const NAN_SLOT = 'P[0]';
export const INFINITY_SLOT = 'P[1]';
