import type { SchedulerLike } from 'rxjs';
import type { Rng } from '../src/core/rng.js';
import type { Observation } from '../src/io/plant.js';
import type { FaultSpec } from './fault-spec.js';
import type { OutgoingBytesHook } from './robot-link.js';

/** How many messages or frames each fault touched. */
export type FaultCounts = Record<string, number>;

/**
 * The virtual robot's fault injection on its outgoing sensor stream (see fault-spec.ts for the
 * faults). Message faults (drop, delay, duplicate, reorder, stop, freeze) act in `forward`,
 * between the physics and the link; byte faults (corrupt) act in `bytesHook`, which the link
 * applies to every encoded frame right before it goes on the wire. Scheduled windows count from
 * `start()` (the robot's first arm). Randomness from one seeded Rng, so a run is repeatable.
 */
export class FaultInjector {
  readonly counts: FaultCounts = {};
  readonly bytesHook: OutgoingBytesHook = (bytes) => this.corrupt(bytes);
  private t0: number | undefined; // scheduler ms of start()
  private readonly frozen = new Map<string, Observation>(); // channel -> the reading it repeats
  private readonly held = new Map<string, Observation>(); // channel -> a reading held back (reorder)
  private readonly windowState = new Map<FaultSpec, boolean>();

  constructor(
    readonly specs: readonly FaultSpec[],
    private readonly rng: Rng,
    private readonly scheduler: SchedulerLike,
    /** Told when a scheduled fault turns on or off (the robot records it). */
    private readonly onWindow: (spec: FaultSpec, active: boolean) => void = () => {},
  ) {}

  /** Time zero of the scheduled windows; only the first call counts. */
  start(): void {
    this.t0 ??= this.scheduler.now();
  }

  /** Passes one outgoing reading through the message faults to `send` (now, later, twice, or never). */
  forward(obs: Observation, send: (o: Observation) => void): void {
    if (this.active('stop', obs.channel) !== undefined) return this.count('stop');
    if (this.active('freeze', obs.channel) !== undefined) {
      // A stuck sensor: the reading from the window's start again, its stamp included.
      let repeat = this.frozen.get(obs.channel);
      if (repeat === undefined) this.frozen.set(obs.channel, (repeat = obs));
      this.count('freeze');
      return send(repeat);
    }
    this.frozen.delete(obs.channel);
    const drop = this.active('drop', obs.channel);
    if (drop !== undefined && this.rng.uniform() < drop.value) return this.count('drop');
    const copies = this.roll('duplicate', obs.channel) ? 2 : 1;
    const held = this.held.get(obs.channel);
    const out: Observation[] = [];
    if (held !== undefined) {
      this.held.delete(obs.channel);
      out.push(obs, held); // the held one goes after the newer one: out of order
    } else if (this.roll('reorder', obs.channel)) {
      this.held.set(obs.channel, obs);
    } else {
      out.push(obs);
    }
    const delay = this.active('delay', obs.channel);
    for (const o of out) {
      for (let c = 0; c < copies; c++) {
        if (delay !== undefined && delay.value > 0) {
          this.count('delay');
          this.scheduler.schedule(() => send(o), delay.value);
        } else {
          send(o);
        }
      }
    }
  }

  /** Probability faults: whether this message is hit (and counted). */
  private roll(kind: 'duplicate' | 'reorder', channel: string): boolean {
    const spec = this.active(kind, channel);
    if (spec === undefined || !(this.rng.uniform() < spec.value)) return false;
    this.count(kind);
    return true;
  }

  /** Flips one bit of one byte, never the last one (a frame's delimiter), so a corrupt frame costs only itself. */
  private corrupt(bytes: Uint8Array): Uint8Array | null {
    const spec = this.active('corrupt', undefined);
    if (spec === undefined || bytes.length < 2 || !(this.rng.uniform() < spec.value)) return bytes;
    const out = bytes.slice();
    const at = Math.floor(this.rng.uniform() * (out.length - 1));
    out[at] = out[at]! ^ (1 << Math.floor(this.rng.uniform() * 8));
    this.count('corrupt');
    return out;
  }

  /** The first spec of `kind` that applies to `channel` now. */
  private active(kind: FaultSpec['kind'], channel: string | undefined): FaultSpec | undefined {
    const t = this.t0 === undefined ? undefined : (this.scheduler.now() - this.t0) / 1000;
    let hit: FaultSpec | undefined;
    for (const spec of this.specs) {
      if (spec.kind !== kind) continue;
      // Unscheduled faults (start 0, no end) are on before the first arm too.
      const on = t === undefined ? spec.start === 0 && spec.duration === Infinity : t >= spec.start && t < spec.start + spec.duration;
      if (spec.start > 0 || spec.duration !== Infinity) this.noteWindow(spec, on);
      if (on && hit === undefined && (spec.channel === undefined || spec.channel === channel)) hit = spec;
    }
    return hit;
  }

  private noteWindow(spec: FaultSpec, on: boolean): void {
    if ((this.windowState.get(spec) ?? false) === on) return;
    this.windowState.set(spec, on);
    this.onWindow(spec, on);
  }

  private count(kind: string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }
}
