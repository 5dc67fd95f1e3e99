import type { Logger } from 'pino';
import type { PlantEvent } from './plant.js';
import { defaultStampLimits, StampPolicy, type StampVerdict } from './stamp-policy.js';

/** The plant config fields of the stamp policy (plant.max_stamp_lead, plant.clock_step_readings). */
export interface StampLimitsConfig {
  readonly max_stamp_lead?: number | undefined;
  readonly clock_step_readings?: number | undefined;
}

/**
 * A wire plant's use of the stamp policy: the config's limits resolved against the control
 * period, and what the policy concludes told the same way on every transport: a dropped reading
 * as a `reading_dropped` event, a clock step and a robot restart as an event and one log line
 * with a stable `code`.
 */
export class LinkStamps {
  /** `plant.clock_step_readings`, resolved: the serial seq re-synchronises after as many frames. */
  readonly clockStepReadings: number;
  private readonly policy: StampPolicy;

  constructor(
    cfg: StampLimitsConfig,
    controlPeriod: number,
    private readonly log: Logger,
    private readonly emit: (e: PlantEvent) => void,
  ) {
    const defaults = defaultStampLimits(controlPeriod);
    this.clockStepReadings = cfg.clock_step_readings ?? defaults.clockStepReadings;
    this.policy = new StampPolicy({
      maxStampLead: cfg.max_stamp_lead ?? defaults.maxStampLead,
      clockStepReadings: this.clockStepReadings,
      onClockStep: (step) => {
        this.log.warn(
          { code: 'clock_step', channel: step.channel, jump_s: step.jump, readings_dropped: step.dropped },
          `the robot's clock on channel '${step.channel}' stepped by ${step.jump.toFixed(3)} s; re-based its stamps`,
        );
        this.emit({ kind: 'clock_step', channel: step.channel, jump: step.jump, dropped: step.dropped });
      },
    });
  }

  /** A reading's stamp in the daemon's clock, or null when it is dropped (and reported). */
  judge(channel: string, robotStamp: number, now: number): number | null {
    const v: StampVerdict = this.policy.judge(channel, robotStamp, now);
    if (v.ok) return v.stamp;
    this.emit({ kind: 'reading_dropped', channel, reason: v.reason });
    return null;
  }

  /** The robot rebooted (a new session): its stamps and sequence start afresh on every channel. */
  robotRestarted(detail: string): void {
    this.policy.newSession();
    this.log.warn({ code: 'robot_restart', detail }, `the robot restarted (${detail}); its stamps start afresh`);
    this.emit({ kind: 'robot_restart', detail });
  }
}
