import type { Logger } from 'pino';
import type { Subscription } from 'rxjs';
import type { LiveParamValues } from '../costs/task-params.js';
import { CommandGate } from '../io/command-envelope.js';
import type { GoalArrival, GoalRejection, GoalReport } from '../io/goal-message.js';
import type { PlantPort } from '../io/plant.js';

/** Senders judged at once; a new one past this replaces the one heard from longest ago. */
const MAX_SENDERS = 16;

/** What the inbox tells its owner about a goal it took. */
export interface TakenGoal {
  readonly sender: string;
  readonly seq: number;
  readonly params: Readonly<Record<string, number>>;
  readonly replan: boolean;
}

/**
 * Takes goals from the plant's link into the task's live params, between control ticks (the
 * planner reads them at its next tick). A goal is taken whole or not at all: it must be newer
 * than the sender's last (seq), younger than its ttl (stamp, on the sender's clock, judged by the
 * same gate the robot uses for commands), and every value must be a live param within its bounds.
 * Anything else is counted by reason, answered with that reason, and changes nothing: the planner
 * keeps the last valid goal.
 */
export class GoalInbox {
  private readonly gates = new Map<string, CommandGate>();
  private accepted = 0;
  private readonly rejected: Record<GoalRejection, number> = { malformed: 0, non_finite: 0, duplicate_or_old: 0, stale: 0, refused: 0 };
  private readonly subscription: Subscription | undefined;

  constructor(
    private readonly plant: PlantPort,
    private readonly live: LiveParamValues,
    private readonly onTaken: (goal: TakenGoal) => void,
    private readonly log: Logger,
  ) {
    this.subscription = plant.goals$?.subscribe((arrival) => this.take(arrival));
  }

  /** Counts so far: for the run's summary. */
  get counts(): { accepted: number; rejected: Readonly<Record<GoalRejection, number>> } {
    return { accepted: this.accepted, rejected: { ...this.rejected } };
  }

  take(arrival: GoalArrival): void {
    if (!arrival.ok) return this.reject(null, null, arrival.reason === 'non_finite' ? 'non_finite' : 'malformed', arrival.error);
    const { goal } = arrival;
    const verdict = this.gate(goal.sender).check(goal, arrival.receivedAt);
    if (verdict === 'malformed') return this.reject(goal.sender, goal.seq, 'malformed', 'seq, stamp or ttl is not a finite number');
    if (verdict !== 'apply') {
      return this.reject(goal.sender, goal.seq, verdict, verdict === 'stale' ? `older than its ttl of ${goal.ttl} s` : 'seq not newer than the last goal taken from this sender');
    }
    const reasons = Object.entries(goal.params).flatMap(([name, value]) => this.live.refuse(name, value) ?? []);
    if (reasons.length > 0) return this.reject(goal.sender, goal.seq, 'refused', reasons.join('; '));
    for (const [name, value] of Object.entries(goal.params)) this.live.set(name, value);
    this.accepted += 1;
    this.log.info({ code: 'goal_accepted', sender: goal.sender, seq: goal.seq, params: goal.params, replan: goal.replan }, 'goal taken');
    this.onTaken({ sender: goal.sender, seq: goal.seq, params: goal.params, replan: goal.replan });
    this.report({ sender: goal.sender, seq: goal.seq, verdict: 'accepted' });
  }

  close(): void {
    this.subscription?.unsubscribe();
  }

  private gate(sender: string): CommandGate {
    let gate = this.gates.get(sender);
    if (gate === undefined) {
      if (this.gates.size >= MAX_SENDERS) this.gates.delete(this.gates.keys().next().value!);
      gate = new CommandGate();
    } else {
      this.gates.delete(sender); // re-inserted below: the map's order is last heard from
    }
    this.gates.set(sender, gate);
    return gate;
  }

  private reject(sender: string | null, seq: number | null, verdict: GoalRejection, reason: string): void {
    this.rejected[verdict] += 1;
    const level = this.rejected[verdict] === 1 ? 'warn' : 'debug';
    this.log[level]({ code: 'goal_rejected', sender, seq, verdict, reason: reason.slice(0, 500), count: this.rejected[verdict] }, 'goal rejected; the planner keeps the last valid goal');
    this.report({ sender, seq, verdict, reason });
  }

  private report(r: Pick<GoalReport, 'sender' | 'seq' | 'verdict'> & { reason?: string }): void {
    this.plant.reportGoal?.({ ...r, params: this.live.current(), accepted: this.accepted, rejected: { ...this.rejected } });
  }
}
