import type { Subscription } from 'rxjs';
import type { PlantEvent, PlantPort } from '../io/plant.js';

/** What a wire plant's link did during a run, for the run summary. */
export interface LinkCounts {
  /** Frames or messages dropped on the way in (malformed, corrupt, out of order), by reason. */
  frames_dropped: Record<string, number>;
  frames_dropped_total: number;
  /** Well-formed readings whose stamp was not trusted (src/io/stamp-policy.ts), by reason: stamp_in_future, not_newer. */
  readings_dropped: Record<string, number>;
  /** Readings whose stamp did not advance (a frozen sensor, a duplicate): readings_dropped.not_newer. */
  readings_not_newer: number;
  /** Readings that a newer one of the same channel replaced before a control tick read them (newest wins). */
  readings_superseded: number;
  /** Robot clocks that moved for good and were re-based: how often, and the largest jump, s. */
  clock_steps: number;
  largest_clock_step_s: number;
  /** New robot sessions seen (reboots). */
  robot_restarts: number;
  link_downs: number;
  link_ups: number;
  estops: number;
}

/** Counters the control loop adds to (it sees which readings a tick never read). */
export interface ReadingCounters {
  superseded: number;
}

/** Tallies a plant's events$ from construction until `close`. */
export class LinkStats {
  /** For the control loop (controlLoop's `readings` option). */
  readonly readings: ReadingCounters = { superseded: 0 };
  private readonly tally = {
    frames_dropped: {} as Record<string, number>,
    frames_dropped_total: 0,
    readings_dropped: {} as Record<string, number>,
    clock_steps: 0,
    largest_clock_step_s: 0,
    robot_restarts: 0,
    link_downs: 0,
    link_ups: 0,
    estops: 0,
  };
  private readonly sub: Subscription | undefined;

  constructor(plant: PlantPort) {
    this.sub = plant.events$?.subscribe((e) => this.onEvent(e));
  }

  get counts(): LinkCounts {
    const t = this.tally;
    return {
      ...t,
      frames_dropped: { ...t.frames_dropped },
      readings_dropped: { ...t.readings_dropped },
      readings_not_newer: t.readings_dropped['not_newer'] ?? 0,
      readings_superseded: this.readings.superseded,
    };
  }

  close(): void {
    this.sub?.unsubscribe();
  }

  private onEvent(e: PlantEvent): void {
    const t = this.tally;
    switch (e.kind) {
      case 'frame_dropped':
        t.frames_dropped[e.reason] = (t.frames_dropped[e.reason] ?? 0) + 1;
        t.frames_dropped_total++;
        break;
      case 'reading_dropped':
        t.readings_dropped[e.reason] = (t.readings_dropped[e.reason] ?? 0) + 1;
        break;
      case 'clock_step':
        t.clock_steps++;
        if (Math.abs(e.jump) > Math.abs(t.largest_clock_step_s)) t.largest_clock_step_s = e.jump;
        break;
      case 'robot_restart':
        t.robot_restarts++;
        break;
      case 'link_down':
        t.link_downs++;
        break;
      case 'link_up':
        t.link_ups++;
        break;
      case 'estop':
        t.estops++;
        break;
    }
  }
}
