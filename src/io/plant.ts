import type { Observable } from 'rxjs';
import type { ControlStatus } from './control-status.js';
import type { GoalArrival, GoalReport } from './goal-message.js';

/**
 * One timestamped reading of a sensor channel. `values` fill the state slots that the channel
 * is mapped to, in order. `stamp` is the time of the reading in seconds: the simulator's own
 * time, or for a robot over a wire its stamp mapped into the daemon's clock by the link's stamp
 * policy (src/io/stamp-policy.ts), rising within a channel across clock steps and reboots.
 */
export interface Observation {
  readonly channel: string;
  readonly stamp: number;
  readonly values: ArrayLike<number>;
}

/**
 * What happens on a link besides observations: the safety layer and the telemetry listen.
 * `frame_dropped` is one malformed or out-of-order message that was counted and dropped;
 * `reading_dropped` a well-formed reading whose stamp the link did not trust
 * (src/io/stamp-policy.ts). `clock_step`: a channel's robot clock moved for good by `jump` s and
 * its stamps were re-based after `dropped` readings. `robot_restart`: the robot began a new
 * session (it rebooted); it comes up disarmed and needs a fresh arm.
 */
export type PlantEvent =
  | { readonly kind: 'link_up'; readonly detail: string }
  | { readonly kind: 'link_down'; readonly detail: string }
  | { readonly kind: 'estop'; readonly source: string }
  | { readonly kind: 'frame_dropped'; readonly reason: string }
  | { readonly kind: 'reading_dropped'; readonly channel: string; readonly reason: 'stamp_in_future' | 'not_newer' }
  | { readonly kind: 'clock_step'; readonly channel: string; readonly jump: number; readonly dropped: number }
  | { readonly kind: 'robot_restart'; readonly detail: string };

/** The safety state the daemon tells the robot; a robot holds its safe action unless `armed`. */
export type ArmCommand = 'arm' | 'disarm' | 'estop';

/**
 * The Plant port: the one interface that the simulator, MQTT and serial all implement.
 * The pipeline never knows which one it talks to.
 */
export interface PlantPort {
  /** Every channel this plant emits, with the state slots (indices into the state vector) each fills. */
  readonly channels: readonly { readonly name: string; readonly slots: readonly number[] }[];
  readonly observations$: Observable<Observation>;
  /** Non-blocking: hands the action [actionDim] to the plant and returns at once. */
  send(action: Float32Array): void;
  close(): Promise<void>;
  /** Link changes, e-stops and dropped frames; absent where there is no link (in-process sim). */
  readonly events$?: Observable<PlantEvent>;
  /** Called by the control loop on every tick, so that a stalled loop stops the heartbeat. */
  heartbeat?(): void;
  /** Tells the robot the safety state; non-blocking like send. */
  command?(cmd: ArmCommand): void;
  /**
   * An in-process plant the control session resets at each episode: `initial` [nx] as its state,
   * its clock restarted with physics time 0 at `clockOrigin` (scheduler ms) when it runs free.
   * Absent for a robot over a wire, which starts its own episode when it is armed.
   */
  reset?(initial: ArrayLike<number>, clockOrigin?: number): void;
  /** Goals from the robot's software over this link (src/io/goal-message.ts); absent where the link carries none. */
  readonly goals$?: Observable<GoalArrival>;
  /** Answers a goal (accepted, or rejected and why); non-blocking like send. */
  reportGoal?(report: GoalReport): void;
  /** Tells the robot's software what the daemon is doing (status.rate); non-blocking, dropped when the link is down. */
  reportStatus?(status: ControlStatus): void;
}
