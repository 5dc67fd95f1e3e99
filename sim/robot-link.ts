import type { Observable } from 'rxjs';
import type { CommandEnvelope } from '../src/io/command-envelope.js';
import type { ArmCommand, Observation } from '../src/io/plant.js';

/**
 * The robot's side of a transport, as the virtual robot (and, in C++, the reference firmware)
 * sees it: decoded commands in, sensor readings out. The daemon's side is a PlantPort.
 * Each transport (MQTT, serial) implements both sides over the same wire format.
 */
export interface RobotLink {
  /** Action commands as received and decoded; the robot applies a CommandGate before using them. */
  readonly commands$: Observable<CommandEnvelope>;
  /** Arm / disarm / e-stop requests from the daemon. */
  readonly arm$: Observable<ArmCommand>;
  /** Heartbeats from the daemon's control loop, with the daemon's stamp in seconds. */
  readonly heartbeats$: Observable<number>;
  /** Messages or frames that did not decode; counted by the link. */
  readonly dropped: { count: number };
  /** Sends one sensor reading; non-blocking. */
  publish(obs: Observation): void;
  /** The robot's own e-stop (a button on the robot): tells the daemon. */
  estop(source: string): void;
  /**
   * Power lost (the reboot fault): the wire goes dead as it would with the board off. Nothing is
   * sent or delivered until `powerOn`. MQTT: the connection drops without a DISCONNECT, so the
   * broker publishes the robot's last will `offline`.
   */
  powerOff(): void;
  /**
   * The board boots again: a new session, its frame seq from 0, no daemon session known yet.
   * MQTT: connects anew and publishes a retained `online` with the new session. Resolves once
   * on the wire; rejects if it cannot get there (the link keeps trying where it can).
   */
  powerOn(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Byte-level fault hook a RobotLink applies to every encoded outgoing message or frame, right
 * before it goes on the wire: returns the bytes to send (possibly altered), or null to drop.
 * Message-level faults (delay, duplicate, reorder, stop, freeze) live above the link.
 */
export type OutgoingBytesHook = (bytes: Uint8Array) => Uint8Array | null;
