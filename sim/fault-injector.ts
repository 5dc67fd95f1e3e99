import type { SchedulerLike } from 'rxjs';
import type { Rng } from '../src/core/rng.js';
import type { Observation } from '../src/io/plant.js';
import type { FaultSpec } from './fault-spec.js';
import type { OutgoingBytesHook } from './robot-link.js';

/** The longest stretch between two readings of a channel that a flood fills, s: a longer one is a jump, not a period. */
const MAX_FLOOD_GAP_S = 0.5;

/** How many messages or frames each fault touched. */
export type FaultCounts = Record<string, number>;

/**
 * The virtual robot's fault injection (see fault-spec.ts for the faults). Message faults (drop,
 * delay, duplicate, reorder, stop, freeze, garbage_stamp, flood) act in `forward`, between the
 * physics and the link; byte faults (corrupt) act in `bytesHook`, which the link applies to every
 * encoded frame right before it goes on the wire. Faults of the robot itself (clock_step, reboot)
 * are the robot's to act on: it asks `clockError()` and `active('reboot')` at every period.
 * Scheduled windows count from `start()` (the robot's first arm), on the host's clock, so a
 * robot clock that steps or restarts does not move them. Randomness from one seeded Rng, so a
 * run is repeatable.
 */
export class FaultInjector {
  readonly counts: FaultCounts = {};
  readonly bytesHook: OutgoingBytesHook = (bytes) => this.corrupt(bytes);
  private t0: number | undefined; // scheduler ms of start()
  private readonly frozen = new Map<string, Observation>(); // channel -> the reading it repeats
  private readonly held = new Map<string, Observation>(); // channel -> a reading held back (reorder)
  private readonly windowState = new Map<FaultSpec, boolean>();
  private readonly fired = new Set<FaultSpec>(); // garbage_stamp specs whose one reading went out
  private readonly last = new Map<string, Observation>(); // channel -> its last true reading (flood)
  private readonly floodDue = new Map<string, number>(); // channel -> flood readings owed, fractional

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
    const previous = this.last.get(obs.channel);
    this.last.set(obs.channel, obs);
    for (const extra of this.flood(obs, previous)) send(extra);
    obs = this.garbageStamp(obs);
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

  /**
   * The robot's clock error from clock_step faults, s: the sum of the steps whose START has
   * passed. The robot adds any change to its own clock.
   */
  clockError(): number {
    let error = 0;
    for (const spec of this.specs) if (spec.kind === 'clock_step' && this.isOn(spec, this.elapsed())) error += spec.value;
    return error;
  }

  /**
   * A flood's extra readings before `obs`: in the stretch since the channel's previous reading,
   * the flood's rate (its share, without /CHANNEL) less the one normal reading, stamped evenly
   * in between and valued by linear interpolation, so every stamp advances and none is ahead of
   * `obs` (the robot's clock).
   */
  private flood(obs: Observation, previous: Observation | undefined): Observation[] {
    const spec = this.active('flood', obs.channel);
    if (spec === undefined) {
      this.floodDue.delete(obs.channel);
      return [];
    }
    const dt = previous === undefined ? 0 : obs.stamp - previous.stamp;
    // A stream that jumped (a clock step, a reboot, a pause) has no stretch to fill.
    if (previous === undefined || !(dt > 0 && dt <= MAX_FLOOD_GAP_S)) return [];
    const rate = spec.channel === undefined ? spec.value / Math.max(1, this.last.size) : spec.value;
    const due = Math.max(0, (this.floodDue.get(obs.channel) ?? 0) + rate * dt - 1);
    const n = Math.floor(due + 1e-9); // stamps a period apart differ by a hair less than a period now and then
    this.floodDue.set(obs.channel, due - n);
    const out: Observation[] = [];
    for (let k = 1; k <= n; k++) {
      const f = k / (n + 1);
      out.push({ channel: obs.channel, stamp: previous.stamp + f * dt, values: Array.from(obs.values, (v, i) => previous.values[i]! + f * (v - previous.values[i]!)) });
    }
    this.counts['flood'] = (this.counts['flood'] ?? 0) + n;
    return out;
  }

  /** The one reading of a garbage_stamp fault: its stamp moved ahead by the spec's lead. */
  private garbageStamp(obs: Observation): Observation {
    const spec = this.active('garbage_stamp', obs.channel);
    if (spec === undefined) return obs;
    this.fired.add(spec);
    this.noteWindow(spec, false);
    this.count('garbage_stamp');
    return { ...obs, stamp: obs.stamp + spec.value };
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

  /** The first spec of `kind` that applies to `channel` now (a channel-less spec applies to every channel). */
  active(kind: FaultSpec['kind'], channel: string | undefined): FaultSpec | undefined {
    const t = this.elapsed();
    let hit: FaultSpec | undefined;
    for (const spec of this.specs) {
      if (spec.kind !== kind) continue;
      const on = this.isOn(spec, t);
      if (on && hit === undefined && (spec.channel === undefined || spec.channel === channel)) hit = spec;
    }
    return hit;
  }

  /** Seconds since start(); undefined before it. */
  private elapsed(): number | undefined {
    return this.t0 === undefined ? undefined : (this.scheduler.now() - this.t0) / 1000;
  }

  /** Whether `spec` is on at `t` (s since start()), telling onWindow of a change. */
  private isOn(spec: FaultSpec, t: number | undefined): boolean {
    // Unscheduled faults (start 0, no end) are on before the first arm too; a garbage stamp is off once sent.
    const on = this.fired.has(spec) ? false : t === undefined ? spec.start === 0 && spec.duration === Infinity : t >= spec.start && t < spec.start + spec.duration;
    if (spec.start > 0 || spec.duration !== Infinity) this.noteWindow(spec, on);
    return on;
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
