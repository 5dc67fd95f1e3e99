import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandGate, type CommandEnvelope } from '../../../src/io/command-envelope.js';

const TTL = 0.04;
/** Robot clock = daemon clock + 1000 s (the two are unrelated), 2 ms transit. */
const OFFSET = 1000;
const cmd = (seq: number, stamp: number, ttl = TTL): CommandEnvelope => ({ seq, stamp, ttl, u: [0] });
const arrival = (stamp: number, delay = 0.002): number => stamp + OFFSET + delay;

describe('CommandGate', () => {
  it('applies commands in order', () => {
    const gate = new CommandGate();
    for (let i = 1; i <= 5; i++) assert.equal(gate.check(cmd(i, i * 0.02), arrival(i * 0.02)), 'apply');
  });

  it('refuses duplicates and out-of-order commands', () => {
    const gate = new CommandGate();
    assert.equal(gate.check(cmd(1, 0.02), arrival(0.02)), 'apply');
    assert.equal(gate.check(cmd(3, 0.06), arrival(0.06)), 'apply');
    assert.equal(gate.check(cmd(3, 0.06), arrival(0.06, 0.003)), 'duplicate_or_old'); // duplicated
    assert.equal(gate.check(cmd(2, 0.04), arrival(0.04, 0.025)), 'duplicate_or_old'); // overtaken
    assert.equal(gate.check(cmd(4, 0.08), arrival(0.08)), 'apply');
  });

  it('refuses a command that arrives older than its ttl, and a later fresh one still applies', () => {
    const gate = new CommandGate();
    assert.equal(gate.check(cmd(1, 0.02), arrival(0.02)), 'apply');
    // Queued for 1 s (a broker that froze): its age shows against the offset the fast message set.
    assert.equal(gate.check(cmd(2, 0.04), arrival(0.04, 1.0)), 'stale');
    assert.equal(gate.check(cmd(3, 0.06), arrival(0.06, 1.0)), 'stale');
    // A stale command does not move the sequence on: seq 4 is fresh and applies.
    assert.equal(gate.check(cmd(4, 1.06), arrival(1.06)), 'apply');
    // Exactly at the ttl still applies; just past it does not.
    assert.equal(gate.check(cmd(5, 1.08), arrival(1.08, 0.002 + TTL)), 'apply');
    assert.equal(gate.check(cmd(6, 1.10), arrival(1.10, 0.002 + TTL + 1e-3)), 'stale');
  });

  it('refuses malformed commands, and a NaN stamp does not switch off the staleness check', () => {
    const gate = new CommandGate();
    assert.equal(gate.check(cmd(1, 0.02), arrival(0.02)), 'apply');
    assert.equal(gate.check(cmd(2, Number.NaN), arrival(0.04)), 'malformed');
    assert.equal(gate.check(cmd(3, 0.06, Number.NaN), arrival(0.06)), 'malformed');
    assert.equal(gate.check(cmd(3.5, 0.06), arrival(0.06)), 'malformed');
    assert.equal(gate.check(cmd(4, Number.POSITIVE_INFINITY), arrival(0.08)), 'malformed');
    // Were the NaN folded into the offset, every age would be NaN and this late command would apply.
    assert.equal(gate.check(cmd(5, 0.1), arrival(0.1, 0.5)), 'stale');
    assert.equal(gate.check(cmd(6, 0.12), arrival(0.12)), 'apply');
  });

  it('keeps applying fresh commands for hours when the robot clock runs fast', () => {
    const gate = new CommandGate();
    const drift = 200e-6; // the robot's clock gains 200 ppm on the daemon's
    let stale = 0;
    let seq = 0;
    for (let t = 0; t < 3600; t += 0.02) {
      const robotNow = OFFSET + (t + 0.002) * (1 + drift);
      if (gate.check(cmd(++seq, t), robotNow) !== 'apply') stale++;
    }
    assert.equal(stale, 0);
    // ...and a command queued for half a second is still caught after that hour.
    const t = 3600;
    assert.equal(gate.check(cmd(++seq, t), OFFSET + (t + 0.5) * (1 + drift)), 'stale');
  });

  it('accepts a restarted daemon after reset', () => {
    const gate = new CommandGate();
    assert.equal(gate.check(cmd(500, 10), arrival(10)), 'apply');
    assert.equal(gate.check(cmd(1, 0.02), arrival(0.02) + 50), 'duplicate_or_old');
    gate.reset();
    assert.equal(gate.check(cmd(1, 0.02), arrival(0.02) + 50), 'apply');
    assert.equal(gate.check(cmd(2, 0.04), arrival(0.04) + 50), 'apply');
  });

  it('tightens its clock estimate from heartbeats', () => {
    const gate = new CommandGate();
    gate.observeClock(0.0, arrival(0.0)); // a heartbeat with the true transit time
    // The first command ever seen was queued: without the heartbeat it would set the offset and look fresh.
    assert.equal(gate.check(cmd(1, 0.02), arrival(0.02, 0.3)), 'stale');
  });
});
