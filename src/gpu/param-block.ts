/**
 * The kernel's real-valued parameters (model constants, integrator steps, cost weights, targets,
 * task params and expression literals) as one float32 storage buffer, so the WGSL holds no
 * number that a config could change. Slot 0 holds NaN and slot 1 +Infinity: WGSL cannot write
 * them as constants, and the math helpers need them at run time.
 */
export class ParamBlock {
  private readonly values: number[] = [Number.NaN, Number.POSITIVE_INFINITY];

  /** Appends `value` and returns the WGSL that reads it. */
  ref(value: number): string {
    this.values.push(value);
    return `P[${this.values.length - 1}]`;
  }

  /** The buffer's contents [slots], rounded to float32. */
  data(): Float32Array {
    return Float32Array.from(this.values);
  }
}

export const NAN_SLOT = 'P[0]';
export const INFINITY_SLOT = 'P[1]';
