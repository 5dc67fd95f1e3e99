import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { pino } from 'pino';
import { parseConfigText } from '../../src/config/load-config.js';
import { MpcdError } from '../../src/core/errors.js';
import { ArmingStateMachine, nextArmingState, type ArmingInput, type ArmingState, type SafetyEvent } from '../../src/safety/arming.js';
import { clearRuleFor, DEFAULT_CLEAR_RULES, SafeActionSource } from '../../src/safety/safe-action.js';
import { safetyConfigFrom } from '../../src/safety/safety-config.js';
import { SafetySupervisor } from '../../src/safety/safety-supervisor.js';
import { Watchdog } from '../../src/safety/watchdog.js';
import { LinkFakePlant } from './link-fake-plant.js';
import { virtualScheduler } from '../../src/loop/clock.js';

test('the transition table, state by input', () => {
  const inputs: ArmingInput[] = ['arm', 'disarm', 'ready', 'standby', 'fault', 'all_clear'];
  const row = (state: ArmingState, intent: 'armed' | 'disarmed') => inputs.map((i) => nextArmingState(state, i, intent) ?? '-').join(' ');
  //                                           arm      disarm     ready      standby  fault      all_clear
  assert.equal(row('disarmed', 'disarmed'), 'armed - - - faulted -');
  assert.equal(row('armed', 'armed'), '- disarmed running - faulted -');
  assert.equal(row('running', 'armed'), '- disarmed - armed faulted -');
  assert.equal(row('faulted', 'armed'), '- - - - - armed');
  assert.equal(row('faulted', 'disarmed'), '- - - - - disarmed');
});

function machine(goodTicks = 3, rules = DEFAULT_CLEAR_RULES) {
  const events: SafetyEvent[] = [];
  const m = new ArmingStateMachine(goodTicks, (f) => clearRuleFor(rules, f), (e) => events.push(e));
  return { m, events };
}

test('an auto fault clears after good_ticks consecutive good observations; a relapse restarts the count', () => {
  const { m, events } = machine(3);
  m.arm(0);
  m.ready(0);
  m.observe('sensor_stale:imu', true, 1, 'old');
  assert.equal(m.state, 'faulted');
  m.observe('sensor_stale:imu', false, 2);
  m.observe('sensor_stale:imu', false, 3);
  m.observe('sensor_stale:imu', true, 4); // relapse
  m.observe('sensor_stale:imu', false, 5);
  m.observe('sensor_stale:imu', false, 6);
  assert.equal(m.state, 'faulted');
  m.observe('sensor_stale:imu', false, 7);
  assert.equal(m.state, 'armed');
  assert.deepEqual(events.at(-2), { kind: 'fault_cleared', tick: 7, fault: 'sensor_stale:imu', by: 'good_ticks' });
  assert.deepEqual(events.at(-1), { kind: 'transition', tick: 7, from: 'faulted', to: 'armed', reason: 'cleared sensor_stale:imu' });
});

test('two faults: faulted until both clear; each raise is reported with its reason', () => {
  const { m, events } = machine(1);
  m.arm(0);
  m.observe('link_down', true, 1, 'gone');
  m.observe('deadline_missed', true, 1, 'late');
  m.observe('link_down', false, 2);
  assert.equal(m.state, 'faulted');
  assert.deepEqual(m.faults, ['deadline_missed']);
  m.observe('deadline_missed', false, 3);
  assert.equal(m.state, 'armed');
  assert.deepEqual(
    events.filter((e) => e.kind === 'fault_raised').map((e) => e.kind === 'fault_raised' && `${e.fault}:${e.detail}`),
    ['link_down:gone', 'deadline_missed:late'],
  );
});

test('manual faults: e-stop always, others when configured; arm() clears them only once their cause is gone', () => {
  const { m } = machine(1, { ...DEFAULT_CLEAR_RULES, sensor_stale: 'manual' });
  m.arm(0);
  m.raise('estop', 1, 'button');
  for (let t = 2; t < 50; t++) m.observe('sensor_stale:imu', t < 10, t);
  assert.deepEqual(m.faults, ['estop', 'sensor_stale:imu'], 'no good-tick clear for manual faults');
  m.observe('sensor_stale:imu', true, 50);
  m.arm(51);
  assert.deepEqual(m.faults, ['sensor_stale:imu'], 'the e-stop is lifted, the stale channel (still stale) is not');
  assert.equal(m.state, 'faulted');
  m.observe('sensor_stale:imu', false, 52);
  m.arm(53);
  assert.equal(m.state, 'armed');
  assert.equal(clearRuleFor(DEFAULT_CLEAR_RULES, 'estop'), 'manual');
  assert.equal(clearRuleFor({ ...DEFAULT_CLEAR_RULES, estop: 'auto' } as typeof DEFAULT_CLEAR_RULES, 'estop'), 'manual');
  assert.equal(clearRuleFor(DEFAULT_CLEAR_RULES, 'sensor_stale:x'), 'auto');
});

test('the watchdog: per-channel max age on arrival times; unknown channels are a config error', () => {
  const w = new Watchdog(['imu', 'enc'], { imu: 10 }, 60, 20);
  w.start(0);
  w.onReading('imu', 5);
  assert.equal(w.isStale('imu', 15), false);
  assert.equal(w.isStale('imu', 15.5), true);
  assert.equal(w.isStale('enc', 60), false);
  assert.equal(w.isStale('enc', 61), true);
  assert.equal(w.deadline(100), 120);
  assert.throws(
    () => new Watchdog(['imu'], { lidar: 1 }, 60, 20),
    (e: unknown) => e instanceof MpcdError && e.code === 'SAFETY_CHANNEL' && /'lidar'.*channels are: imu/.test(e.message),
  );
});

test('the safe action source: hold before anything was sent falls back to the brake values', () => {
  const out = new Float32Array(2);
  const hold = new SafeActionSource('hold', Float32Array.of(0.5, -1));
  hold.fill(out);
  assert.deepEqual(Array.from(out), [0.5, -1]);
  hold.noteSent(Float32Array.of(2, 3));
  hold.fill(out);
  assert.deepEqual(Array.from(out), [2, 3]);
  new SafeActionSource('zero', Float32Array.of(0.5, -1)).fill(out);
  assert.deepEqual(Array.from(out), [0, 0]);
});

const exampleText = readFileSync(new URL('../../../config/pendulum-swingup.yaml', import.meta.url), 'utf8');
const withSafety = (section: string) => exampleText.replace(/^safety:\n(?: {2}.*\n)+/m, `safety:\n${section}`);

test('safetyConfigFrom: defaults from the control period and plant kind; seconds become ms', () => {
  const defaults = safetyConfigFrom(parseConfigText(exampleText, 'pendulum'));
  assert.deepEqual(defaults, {
    mode: 'brake',
    safeAction: { u: 0 },
    maxAgeMs: {},
    defaultMaxAgeMs: 60,
    deadlineMs: 20,
    clear: DEFAULT_CLEAR_RULES,
    armOnStart: true,
  });
  const text = withSafety(
    [
      '  safe_action: { u: 0.2 }',
      '  safe_mode: hold',
      '  max_age: { state: 0.1 }',
      '  max_age_default: 0.5',
      '  deadline: 0.015',
      '  fault_clear: { good_ticks: 4, link_down: manual }',
      '  arm_on_start: false',
      '',
    ].join('\n'),
  );
  const s = safetyConfigFrom(parseConfigText(text, 'pendulum'));
  assert.equal(s.mode, 'hold');
  assert.deepEqual(s.maxAgeMs, { state: 100 });
  assert.equal(s.defaultMaxAgeMs, 500);
  assert.ok(Math.abs(s.deadlineMs - 15) < 1e-9);
  assert.deepEqual(s.clear, { ...DEFAULT_CLEAR_RULES, goodTicks: 4, link_down: 'manual' });
  assert.equal(s.armOnStart, false);
});

test('config errors: a bad safe mode is named; a max_age for a channel the plant lacks fails at construction', () => {
  assert.throws(
    () => parseConfigText(withSafety('  safe_mode: coast\n'), 'pendulum'),
    (e: unknown) => e instanceof MpcdError && e.code === 'CONFIG_INVALID' && /safety\.safe_mode/.test(e.message),
  );
  const config = parseConfigText(withSafety('  max_age: { imu: 0.1 }\n'), 'pendulum');
  const plant = new LinkFakePlant(0.02, virtualScheduler());
  assert.throws(() => SafetySupervisor.fromConfig(config, plant, ['u'], pino({ level: 'silent' })), /safety\.max_age names 'imu'/);
});
