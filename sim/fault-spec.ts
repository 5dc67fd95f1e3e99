import { MpcdError } from '../src/core/errors.js';

/**
 * One fault the virtual robot injects into its outgoing sensor stream, parsed from
 * `KIND[/CHANNEL]:ARG[@START[+DURATION]]`:
 *
 *   drop:0.05        drop each message with probability 0.05
 *   delay:30         deliver each message 30 ms late
 *   duplicate:0.1    send a message twice with probability 0.1
 *   reorder:0.1      hold a message back and send it after the next one, with probability 0.1
 *   corrupt:0.1      flip one bit of an encoded frame/message with probability 0.1 (bytes on the wire)
 *   stop:2.0@3.0     send nothing for 2 s, starting 3 s after the first arm
 *   freeze/pole:2@1  channel `pole` keeps repeating its last reading (same values, same stamp) for 2 s from 1 s
 *
 * Times are seconds after the robot's first arm (the daemon's first episode); a fault without
 * `@` is on from the start. `/CHANNEL` limits a fault to one channel (not for corrupt, which
 * sees bytes). For stop and freeze ARG is the window's length.
 */
export type FaultKind = 'drop' | 'delay' | 'duplicate' | 'reorder' | 'corrupt' | 'stop' | 'freeze';

export interface FaultSpec {
  readonly kind: FaultKind;
  /** Limits the fault to one channel; undefined = every channel. */
  readonly channel: string | undefined;
  /** Probability (drop, duplicate, reorder, corrupt) or milliseconds (delay); unused for stop and freeze. */
  readonly value: number;
  /** Seconds after the first arm. */
  readonly start: number;
  /** Seconds; Infinity = until the robot stops. */
  readonly duration: number;
  /** The text it was parsed from. */
  readonly text: string;
}

const PROBABILITY: readonly FaultKind[] = ['drop', 'duplicate', 'reorder', 'corrupt'];
const WINDOWED: readonly FaultKind[] = ['stop', 'freeze'];
const KINDS: readonly FaultKind[] = [...PROBABILITY, 'delay', ...WINDOWED];
const SYNTAX = /^([a-z]+)(?:\/([^:@+]+))?:([^@]+)(?:@([^+]+)(?:\+(.+))?)?$/;
const EXAMPLES = 'e.g. corrupt:0.1, drop:0.05@2, delay:30, stop:2.0@3.0, freeze/pole:1.5@2';

/** Parses one `--fault` argument; throws MpcdError FAULT_SPEC saying what is wrong. */
export function parseFaultSpec(text: string): FaultSpec {
  const bad = (why: string): MpcdError => new MpcdError('FAULT_SPEC', `--fault ${text}: ${why}; expected KIND[/CHANNEL]:ARG[@START[+DURATION]], ${EXAMPLES}`);
  const m = SYNTAX.exec(text.trim());
  if (m === null) throw bad('not in the fault syntax');
  const [, kindText, channel, argText, startText, durationText] = m;
  const kind = KINDS.find((k) => k === kindText);
  if (kind === undefined) throw bad(`unknown fault kind '${kindText}' (kinds: ${KINDS.join(', ')})`);
  if (kind === 'corrupt' && channel !== undefined) throw bad('corrupt acts on encoded bytes and cannot pick a channel');
  const num = (t: string | undefined, what: string): number => {
    const v = Number(t);
    if (t === undefined || t.trim() === '' || !Number.isFinite(v) || v < 0) throw bad(`${what} must be a non-negative number, got '${t ?? ''}'`);
    return v;
  };
  const arg = num(argText, kind === 'delay' ? 'the delay (ms)' : WINDOWED.includes(kind) ? 'the window (s)' : 'the probability');
  if (PROBABILITY.includes(kind) && arg > 1) throw bad(`a probability is at most 1, got ${arg}`);
  const start = startText === undefined ? 0 : num(startText, 'the start (s)');
  let duration = durationText === undefined ? Infinity : num(durationText, 'the duration (s)');
  if (WINDOWED.includes(kind)) {
    if (durationText !== undefined) throw bad(`${kind} takes its window's length as ARG, not +DURATION`);
    if (arg <= 0) throw bad(`the ${kind} window must be longer than 0 s`);
    duration = arg;
  }
  return { kind, channel, value: arg, start, duration, text };
}
