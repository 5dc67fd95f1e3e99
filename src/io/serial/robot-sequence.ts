/**
 * The robot's frame sequence on one serial link: a frame whose seq is not newer than the last
 * one of the same robot session is a duplicate or out of order, and is dropped. Newer is
 * judged in serial-number arithmetic (RFC 1982), so the u32 counter may wrap. A seq the robot
 * never sent (a corrupt frame that passed its check, a counter reset without a new session)
 * must not stop the link: `resyncAfter` rejected frames in a row whose seqs advance among
 * themselves re-synchronise the sequence on them.
 *
 * A new session (the robot rebooted) starts the sequence afresh; what that means for stamps is
 * the stamp policy's (src/io/stamp-policy.ts), told by the plant.
 */
export class RobotSequence {
  private session: number | undefined;
  private last: number | undefined;
  private rejectedRun = 0;
  private lastRejected = 0;

  constructor(private readonly resyncAfter: number) {}

  /** 'new_session' when `session` differs from the one before (not for the first one seen). */
  accept(session: number, seq: number): 'ok' | 'new_session' | 'duplicate_or_old' {
    let verdict: 'ok' | 'new_session' = 'ok';
    if (session !== this.session) {
      if (this.session !== undefined) verdict = 'new_session';
      this.session = session;
      this.last = undefined;
      this.rejectedRun = 0;
    }
    if (this.last !== undefined && !newer(seq, this.last)) {
      this.rejectedRun = this.rejectedRun > 0 && newer(seq, this.lastRejected) ? this.rejectedRun + 1 : 1;
      this.lastRejected = seq;
      if (this.rejectedRun < this.resyncAfter) return 'duplicate_or_old';
    }
    this.rejectedRun = 0;
    this.last = seq;
    return verdict;
  }
}

/** `a` is after `b` in u32 serial-number arithmetic. */
function newer(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x8000_0000;
}
