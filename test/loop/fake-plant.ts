import { Subject } from 'rxjs';
import type { Observation, PlantPort } from '../../src/io/plant.js';

/**
 * A plant for pipeline tests: a one-dimensional integrator x' = u on one channel, stepped in
 * lock-step by each send, recording every action it receives.
 */
export class FakePlant implements PlantPort {
  readonly channels = [{ name: 'state', slots: [0] }];
  private readonly subject = new Subject<Observation>();
  readonly observations$ = this.subject.asObservable();
  readonly received: number[][] = [];
  x = 0;
  time = 0;

  constructor(private readonly period: number) {}

  emit(): void {
    this.subject.next({ channel: 'state', stamp: this.time, values: [this.x] });
  }

  send(action: Float32Array): void {
    this.received.push(Array.from(action));
    this.x += this.period * action[0]!;
    this.time += this.period;
    this.emit();
  }

  async close(): Promise<void> {
    this.subject.complete();
  }
}
