/**
 * The daemon's bookkeeping of what the robot sends on one serial link.
 *
 * Sequence: a frame whose seq is not newer than the last one of the same robot session is a
 * duplicate or out of order, and is dropped.
 *
 * Stamps: Observation stamps must never go backwards, or latest-value state assembly would
 * reject every reading after a robot reboots (an Arduino resets when its USB port is opened)
 * and its clock starts again from 0. So within a session stamps pass through, offset by a
 * constant; when the robot's session id changes, the offset is re-chosen so that the new
 * session's first stamp follows the last one by the gap the daemon's own clock measured.
 */
export class RobotStreamTracker {
  /** Robot sessions seen after the first (reboots, or a different robot on the port). */
  restarts = 0;
  private session: number | undefined;
  private lastSeq = -1;
  private offset = 0; // s, added to the robot's stamps
  private lastStamp = -Infinity; // last stamp handed out, s
  private lastDaemonTime = 0; // daemon clock when it was handed out, s

  /**
   * Checks one frame's header. Returns the stamp to publish (robot time, made continuous
   * across robot restarts), or null for a duplicate or out-of-order frame.
   */
  accept(session: number, seq: number, robotStamp: number, daemonNow: number): number | null {
    if (session !== this.session) {
      if (this.session !== undefined) {
        this.restarts++;
        const gap = Math.max(daemonNow - this.lastDaemonTime, 1e-6);
        this.offset = this.lastStamp + gap - robotStamp;
      }
      this.session = session;
      this.lastSeq = -1;
    }
    if (seq <= this.lastSeq) return null;
    this.lastSeq = seq;
    const stamp = robotStamp + this.offset;
    if (stamp > this.lastStamp) {
      this.lastStamp = stamp;
      this.lastDaemonTime = daemonNow;
    }
    return stamp;
  }
}
