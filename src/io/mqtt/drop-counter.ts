import type { Logger } from 'pino';
import type { DropReason } from './payloads.js';

/** Why an incoming MQTT message was dropped: a payload problem, or a topic nobody asked for. */
export type MqttDropReason = DropReason | 'unknown_topic';

/**
 * Counts dropped messages by reason. The first drop of each reason is logged as a warning with
 * its error (that is the one an engineer needs to see); the rest at debug, so a robot that
 * publishes garbage at 1 kHz cannot flood the log.
 */
export class DropCounter {
  readonly byReason: Record<MqttDropReason, number> = { decode: 0, schema: 0, non_finite: 0, unknown_topic: 0 };
  total = 0;

  constructor(
    private readonly log: Logger,
    private readonly side: string,
  ) {}

  count(reason: MqttDropReason, topic: string, error: string): void {
    this.byReason[reason] += 1;
    this.total += 1;
    const level = this.byReason[reason] === 1 ? 'warn' : 'debug';
    this.log[level]({ topic, reason, error: error.slice(0, 500), count: this.byReason[reason] }, `${this.side}: dropped a malformed MQTT message`);
  }
}
