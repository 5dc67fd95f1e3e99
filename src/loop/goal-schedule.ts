import type { Config } from '../config/schema.js';
import type { Rng } from '../core/rng.js';
import type { LiveParamValues } from '../costs/task-params.js';
import { sampleInitialState } from './initial-state.js';

/**
 * The goals of a simulated episode (scenario.goals): every `every_seconds` the next goal is drawn
 * and written into the task's live params, as a robot's software would send a new target. An
 * episode without scenario.goals is one segment with the live params at their defaults. Each
 * segment ends in its own success window (the last task.success.hold_seconds of it).
 *
 * Segments are whole control steps: segment g covers steps [g * stepsPerGoal, (g + 1) * stepsPerGoal),
 * the last one running to the episode's end. A goal written after step i's plan acts from step
 * i + 1 on: the planner reads live params at each tick.
 */
export class GoalSchedule {
  readonly count: number;
  readonly stepsPerGoal: number;
  private readonly holdSteps: number;
  /** [count, live params] the episode's goals, in the live params' order */
  private goals: Float64Array;

  constructor(
    private readonly config: Pick<Config, 'scenario' | 'control' | 'task'>,
    private readonly live: LiveParamValues,
    private readonly episodeSteps: number,
  ) {
    const g = config.scenario.goals;
    const period = config.control.period;
    this.stepsPerGoal = g === undefined ? episodeSteps : Math.max(1, Math.round(g.every_seconds / period));
    this.count = g === undefined ? 1 : Math.max(1, Math.floor(episodeSteps / this.stepsPerGoal));
    this.holdSteps = Math.max(1, Math.round(config.task.success.hold_seconds / period)); // at least the last step
    this.goals = new Float64Array(this.count * live.names.length);
  }

  /**
   * Draws the episode's goals and sets the first; returns them, goal by goal, by name. Without
   * scenario.goals the live params stay as they are: goals from the robot's software hold across
   * episodes, as they do across arm cycles of a robot.
   */
  start(rng: Rng): Array<Record<string, number>> {
    const spec = this.config.scenario.goals;
    if (spec !== undefined) this.live.reset();
    const n = this.live.names.length;
    for (let g = 0; g < this.count; g++) {
      const drawn = spec === undefined ? undefined : sampleInitialState(spec.params, this.live.names, rng);
      for (let i = 0; i < n; i++) this.goals[g * n + i] = spec !== undefined && this.live.names[i]! in spec.params ? drawn![i]! : this.live.values[i]!;
    }
    this.apply(0);
    return Array.from({ length: this.count }, (_, g) => Object.fromEntries(this.live.names.map((name, i) => [name, this.goals[g * n + i]!])));
  }

  /** After step `index` was served: sets the goal that starts at the next step; returns its number, or -1. */
  afterStep(index: number): number {
    const next = index + 1;
    if (next % this.stepsPerGoal !== 0) return -1;
    const g = next / this.stepsPerGoal;
    if (g >= this.count) return -1;
    this.apply(g);
    return g;
  }

  /** The goal step `index` works towards. */
  goalOf(index: number): number {
    return Math.min(this.count - 1, Math.floor(index / this.stepsPerGoal));
  }

  /** Whether step `index` lies in its goal's success window. */
  inSuccessWindow(index: number): boolean {
    const g = this.goalOf(index);
    const end = g === this.count - 1 ? this.episodeSteps : (g + 1) * this.stepsPerGoal;
    return index >= end - this.holdSteps;
  }

  private apply(g: number): void {
    const n = this.live.names.length;
    for (let i = 0; i < n; i++) this.live.values[i] = this.goals[g * n + i]!;
  }
}
