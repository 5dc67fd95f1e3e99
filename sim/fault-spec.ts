import { MpcdError } from '../src/core/errors.js';

/**
 * One fault the virtual robot injects, parsed from `KIND[/CHANNEL]:ARG[@START[+DURATION]]`.
 *
 * Faults of the sensor stream:
 *
 *   drop:0.05        drop each message with probability 0.05
 *   delay:30         deliver each message 30 ms late
 *   duplicate:0.1    send a message twice with probability 0.1
 *   reorder:0.1      hold a message back and send it after the next one, with probability 0.1
 *   corrupt:0.1      flip one bit of an encoded frame/message with probability 0.1 (bytes on the wire)
 *   stop:2.0@3.0     send nothing for 2 s, starting 3 s after the first arm
 *   freeze/pole:2@1  channel `pole` keeps repeating its last reading (same values, same stamp) for 2 s from 1 s
 *   garbage_stamp/pole:1e6@3
 *                    the first `pole` reading from 3 s on goes out stamped 10^6 s ahead (one reading only;
 *                    without /CHANNEL the first reading of any channel)
 *   flood:10000@3+1  for 1 s from 3 s the robot sends 10,000 readings per second in all (split over the
 *                    channels, or all on /CHANNEL): valid readings, stamps advancing and never ahead of
 *                    its clock; never fewer than its normal stream
 *
 * Faults of the robot itself (no /CHANNEL):
 *
 *   clock_step:-5@3  from 3 s on the robot's clock reads 5 s behind, for good: its sensor stamps and
 *                    the clock it judges the daemon's commands by (S may be negative, not 0; a clock
 *                    stepped below 0 publishes nothing until it passes 0)
 *   reboot:1.0@3     at 3 s the robot loses power for 1 s (silent, motors limp, the physics runs on),
 *                    then boots: a new session, seq and clock from 0, disarmed until the next arm
 *
 * Times are seconds after the robot's first arm (the daemon's first episode); a fault without
 * `@` is on from the start. `/CHANNEL` limits a fault to one channel (not for corrupt, which
 * sees bytes). For stop, freeze and reboot ARG is the window's length; garbage_stamp and
 * clock_step happen once, at START, and take no +DURATION.
 */
export type FaultKind = 'drop' | 'delay' | 'duplicate' | 'reorder' | 'corrupt' | 'stop' | 'freeze' | 'garbage_stamp' | 'clock_step' | 'reboot' | 'flood';

export interface FaultSpec {
  readonly kind: FaultKind;
  /** Limits the fault to one channel; undefined = every channel. */
  readonly channel: string | undefined;
  /**
   * Probability (drop, duplicate, reorder, corrupt), milliseconds (delay), seconds ahead
   * (garbage_stamp), seconds the clock jumps (clock_step), readings per second (flood); the
   * window's length for stop, freeze and reboot.
   */
  readonly value: number;
  /** Seconds after the first arm. */
  readonly start: number;
  /** Seconds; Infinity = until the robot stops (clock_step: for good; garbage_stamp: until its one reading went out). */
  readonly duration: number;
  /** The text it was parsed from. */
  readonly text: string;
}

const PROBABILITY: readonly FaultKind[] = ['drop', 'duplicate', 'reorder', 'corrupt'];
const WINDOWED: readonly FaultKind[] = ['stop', 'freeze', 'reboot'];
/** At START, once: a +DURATION would mean nothing. */
const ONCE: readonly FaultKind[] = ['garbage_stamp', 'clock_step'];
/** Faults of the whole robot, not of a channel's readings. */
const ROBOT: readonly FaultKind[] = ['clock_step', 'reboot'];
const KINDS: readonly FaultKind[] = [...PROBABILITY, 'delay', 'stop', 'freeze', 'garbage_stamp', 'clock_step', 'reboot', 'flood'];
const SYNTAX = /^([a-z_]+)(?:\/([^:@+]+))?:([^@]+)(?:@([^+]+)(?:\+(.+))?)?$/;
const EXAMPLES =
  'e.g. corrupt:0.1, drop:0.05@2, delay:30, stop:2.0@3.0, freeze/pole:1.5@2, garbage_stamp/pole:1e6@3, clock_step:-5@3, reboot:1.0@3, flood:10000@3+1';

const ARG_NAME: Record<FaultKind, string> = {
  drop: 'the probability',
  duplicate: 'the probability',
  reorder: 'the probability',
  corrupt: 'the probability',
  delay: 'the delay (ms)',
  stop: 'the window (s)',
  freeze: 'the window (s)',
  reboot: 'the time without power (s)',
  garbage_stamp: 'the stamp lead (s)',
  clock_step: 'the clock step (s)',
  flood: 'the rate (readings/s)',
};

/** Parses one `--fault` argument; throws MpcdError FAULT_SPEC saying what is wrong. */
export function parseFaultSpec(text: string): FaultSpec {
  const bad = (why: string): MpcdError => new MpcdError('FAULT_SPEC', `--fault ${text}: ${why}; expected KIND[/CHANNEL]:ARG[@START[+DURATION]], ${EXAMPLES}`);
  const m = SYNTAX.exec(text.trim());
  if (m === null) throw bad('not in the fault syntax');
  const [, kindText, channel, argText, startText, durationText] = m;
  const kind = KINDS.find((k) => k === kindText);
  if (kind === undefined) throw bad(`unknown fault kind '${kindText}' (kinds: ${KINDS.join(', ')})`);
  if (kind === 'corrupt' && channel !== undefined) throw bad('corrupt acts on encoded bytes and cannot pick a channel');
  if (ROBOT.includes(kind) && channel !== undefined) throw bad(`${kind} happens to the whole robot and cannot pick a channel`);
  const num = (t: string | undefined, what: string, signed = false): number => {
    const v = Number(t);
    if (t === undefined || t.trim() === '' || !Number.isFinite(v) || (!signed && v < 0)) {
      throw bad(`${what} must be a ${signed ? '' : 'non-negative '}number, got '${t ?? ''}'`);
    }
    return v;
  };
  // A clock steps back as well as forward: the one ARG that may be negative.
  const arg = num(argText, ARG_NAME[kind], kind === 'clock_step');
  if (PROBABILITY.includes(kind) && arg > 1) throw bad(`a probability is at most 1, got ${arg}`);
  if (kind === 'clock_step' && arg === 0) throw bad('a clock step of 0 s changes nothing; give the jump in seconds, e.g. -5 or 5');
  if ((kind === 'garbage_stamp' || kind === 'flood') && arg <= 0) throw bad(`${ARG_NAME[kind]} must be greater than 0, got ${arg}`);
  const start = startText === undefined ? 0 : num(startText, 'the start (s)');
  let duration = durationText === undefined ? Infinity : num(durationText, 'the duration (s)');
  if (WINDOWED.includes(kind)) {
    if (durationText !== undefined) throw bad(`${kind} takes its window's length as ARG, not +DURATION`);
    if (arg <= 0) throw bad(`the ${kind} window must be longer than 0 s`);
    duration = arg;
  }
  if (ONCE.includes(kind) && durationText !== undefined) throw bad(`${kind} happens once, at START, and takes no +DURATION`);
  if (kind === 'flood' && duration <= 0) throw bad('the flood must last longer than 0 s');
  return { kind, channel, value: arg, start, duration, text };
}
