import type { Subscription } from 'rxjs';
import type { PlantEvent, PlantPort } from '../io/plant.js';

/** What a wire plant's link did during a run, for the run summary. */
export interface LinkCounts {
  /** Frames or messages dropped on the way in (malformed, corrupt, stale, out of order), by reason. */
  frames_dropped: Record<string, number>;
  frames_dropped_total: number;
  link_downs: number;
  link_ups: number;
  estops: number;
  /** Readings whose stamp did not advance (a frozen sensor, a duplicate), not counted as fresh. */
  readings_not_newer: number;
}

/** Tallies a plant's events$ from construction until `close`. */
export class LinkStats {
  private readonly tally: LinkCounts = { frames_dropped: {}, frames_dropped_total: 0, link_downs: 0, link_ups: 0, estops: 0, readings_not_newer: 0 };
  private readonly sub: Subscription | undefined;

  constructor(
    plant: PlantPort,
    private readonly notNewer: () => number = () => 0,
  ) {
    this.sub = plant.events$?.subscribe((e) => this.onEvent(e));
  }

  get counts(): LinkCounts {
    return { ...this.tally, frames_dropped: { ...this.tally.frames_dropped }, readings_not_newer: this.notNewer() };
  }

  close(): void {
    this.sub?.unsubscribe();
  }

  private onEvent(e: PlantEvent): void {
    switch (e.kind) {
      case 'frame_dropped':
        this.tally.frames_dropped[e.reason] = (this.tally.frames_dropped[e.reason] ?? 0) + 1;
        this.tally.frames_dropped_total++;
        break;
      case 'link_down':
        this.tally.link_downs++;
        break;
      case 'link_up':
        this.tally.link_ups++;
        break;
      case 'estop':
        this.tally.estops++;
        break;
    }
  }
}
