import { Subject, type SchedulerLike } from 'rxjs';
import type { ArmCommand, Observation, PlantEvent, PlantPort } from '../../src/io/plant.js';

/**
 * A plant with a link, for safety tests: a one-dimensional integrator x' = u reported on two
 * channels (`pos` = x, `vel` = the last u), stepped in lock-step by each send like
 * test/loop/fake-plant.ts, plus what a transport adds: link events, heartbeats and arm commands.
 * A muted channel stops reporting; `stampOffset` plays a robot clock that is not ours.
 */
export class LinkFakePlant implements PlantPort {
  readonly channels = [
    { name: 'pos', slots: [0] },
    { name: 'vel', slots: [1] },
  ];
  private readonly subject = new Subject<Observation>();
  private readonly eventSubject = new Subject<PlantEvent>();
  readonly observations$ = this.subject.asObservable();
  readonly events$ = this.eventSubject.asObservable();
  /** Every action received, with the scheduler time it arrived at. */
  readonly received: { at: number; u: number }[] = [];
  readonly commands: { at: number; cmd: ArmCommand }[] = [];
  readonly muted = new Set<string>();
  heartbeats = 0;
  x = 0;
  u = 0;
  time = 0;
  stampOffset = 0;

  constructor(
    private readonly period: number,
    private readonly scheduler: SchedulerLike,
  ) {}

  emit(): void {
    const stamp = this.time + this.stampOffset;
    if (!this.muted.has('pos')) this.subject.next({ channel: 'pos', stamp, values: [this.x] });
    if (!this.muted.has('vel')) this.subject.next({ channel: 'vel', stamp, values: [this.u] });
  }

  send(action: Float32Array): void {
    this.u = action[0]!;
    this.received.push({ at: this.scheduler.now(), u: this.u });
    this.x += this.period * this.u;
    this.time += this.period;
    this.emit();
  }

  heartbeat(): void {
    this.heartbeats++;
  }

  command(cmd: ArmCommand): void {
    this.commands.push({ at: this.scheduler.now(), cmd });
  }

  event(e: PlantEvent): void {
    this.eventSubject.next(e);
  }

  async close(): Promise<void> {
    this.subject.complete();
    this.eventSubject.complete();
  }
}
