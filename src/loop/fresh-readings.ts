import { filter } from 'rxjs';
import type { PlantPort } from '../io/plant.js';

/**
 * A robot over a wire whose readings must advance to count: a reading of a channel whose stamp
 * is not newer than that channel's last one (a stuck sensor repeating itself, a duplicated
 * message) is not passed on, so the watchdog sees the channel go quiet and raises sensor_stale
 * instead of planning from a frozen value. Everything else is the plant itself.
 */
export class FreshReadings {
  /** Readings held back because their stamp did not advance. */
  repeated = 0;
  readonly port: PlantPort;
  private readonly last = new Map<string, number>();

  constructor(plant: PlantPort) {
    const observations$ = plant.observations$.pipe(
      filter((o) => {
        const prev = this.last.get(o.channel);
        if (prev !== undefined && !(o.stamp > prev)) {
          this.repeated++;
          return false;
        }
        this.last.set(o.channel, o.stamp);
        return true;
      }),
    );
    // Delegates rather than copies, so the plant's methods keep their `this`.
    this.port = {
      channels: plant.channels,
      observations$,
      send: (a) => plant.send(a),
      close: () => plant.close(),
      ...(plant.events$ !== undefined ? { events$: plant.events$ } : {}),
      ...(plant.heartbeat !== undefined ? { heartbeat: () => plant.heartbeat!() } : {}),
      ...(plant.command !== undefined ? { command: (cmd) => plant.command!(cmd) } : {}),
    };
  }
}
