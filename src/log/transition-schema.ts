/**
 * What the transition log holds: the record types, the MCAP channels they are written on and
 * the JSON Schemas that describe them to other tools (Foxglove, PlotJuggler, `mcap cat --json`).
 *
 * Messages are JSON (message encoding `json`, schema encoding `jsonschema`) so that any MCAP
 * viewer can plot them without mpcd's code. JSON has no NaN or ±Infinity: JSON.stringify writes
 * them as `null`, and `readTransitionLog` turns a `null` number back into NaN.
 *
 * Keep the schemas within what Foxglove's JSON Schema support accepts: one `type` string per
 * field (no `["number", "null"]` unions), arrays with `items`, integers as `integer`.
 */

/** One step of the control loop: (s, a, s') with its cost, flags and model version. */
export interface Transition {
  /** Seconds since the run started (plant time of the state s). */
  t: number;
  /** Episode index, 0-based. */
  episode: number;
  /** Step within the episode, 0-based. */
  step: number;
  /** s, [stateDim], in the order of RunInfo.state_names; SI units, angles in radians. */
  state: number[];
  /** a, [actionDim], in the order of RunInfo.action_names, as sent after the safety filter. */
  action: number[];
  /** s', [stateDim]: the state observed one control period after s. */
  next_state: number[];
  /** Running cost of this step. */
  cost: number;
  /** Bitmask of TransitionFlags. */
  flags: number;
  /** Version of the residual model that planned a; 0 = analytic model only. */
  model_version: number;
}

/** Bits of Transition.flags. A transition with flags = 0 is a clean sample for training. */
export const TransitionFlags = {
  /** The safety filter clamped a to its limits. */
  clamped: 1,
  /** The safety filter rate-limited a. */
  rate_limited: 2,
  /** A non-finite planner output was replaced by the safe action. */
  non_finite_replaced: 4,
  /** s was assembled from at least one stale sensor channel. */
  stale_state: 8,
  /** Ticks were dropped (planner overrun) between the previous transition and this one. */
  ticks_dropped_before: 16,
  /** The last transition of its episode (s' is not followed by another step of this episode). */
  episode_end: 32,
  /** a is the safety layer's safe action (not running, a fault, or the plan missed its deadline), not the plan's. */
  safe_action_sent: 64,
  /** The safety layer was faulted at s or at s' (a watchdog fault, a lost link, an e-stop). */
  faulted: 128,
} as const;

export type TransitionFlag = keyof typeof TransitionFlags;

/** Written once, first, on `/mpcd/run_info`: what the numbers of the transitions mean. */
export interface RunInfo {
  /** Names of the state slots, [stateDim]. */
  state_names: string[];
  /** Names of the action slots, [actionDim]. */
  action_names: string[];
  /** Control period in seconds. */
  control_period: number;
  /** The run's config file text, as loaded (YAML). */
  config: string;
  /**
   * Wall-clock time of t = 0, in seconds since the Unix epoch. The writer fills it in from
   * Date.now() when absent; MCAP log times are start_time + t.
   */
  start_time?: number;
}

/**
 * A one-off link or safety event, written on `/mpcd/events` between the transitions, in the
 * order it happened: a clock step, a robot restart, and the like. Rare, so never a hot path.
 * Not for the log's own failures (`log_write_failed` goes to the daemon's pino log only: the
 * disk is what failed).
 */
export interface LogEvent {
  /** Seconds since the run started, on the same time base as Transition.t. */
  t: number;
  /** What happened, snake_case: e.g. `clock_step`, `robot_restart`. */
  kind: string;
  /** Whatever describes it, as a JSON object (numbers SI, as everywhere in the log). */
  detail: Record<string, unknown>;
}

export const TRANSITION_TOPIC = '/mpcd/transition';
export const RUN_INFO_TOPIC = '/mpcd/run_info';
export const EVENT_TOPIC = '/mpcd/events';
export const TRANSITION_SCHEMA_NAME = 'mpcd.Transition';
export const RUN_INFO_SCHEMA_NAME = 'mpcd.RunInfo';
export const EVENT_SCHEMA_NAME = 'mpcd.Event';
/** Name of the MCAP metadata record that repeats RunInfo as strings (e.g. for the mcap CLI). */
export const RUN_INFO_METADATA_NAME = 'mpcd';
export const MESSAGE_ENCODING = 'json';
export const SCHEMA_ENCODING = 'jsonschema';

const numberArray = (description: string) =>
  ({ type: 'array', items: { type: 'number' }, description }) as const;

/** JSON Schema (draft 2020-12) of a message on `/mpcd/transition`. */
export const transitionJsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: TRANSITION_SCHEMA_NAME,
  description:
    "One control step (s, a, s'). SI units, angles in radians. " +
    'Non-finite numbers are written as null.',
  type: 'object',
  properties: {
    t: { type: 'number', description: 'Seconds since the run started (plant time of state).' },
    episode: { type: 'integer', minimum: 0, description: 'Episode index, 0-based.' },
    step: { type: 'integer', minimum: 0, description: 'Step within the episode, 0-based.' },
    state: numberArray('s [stateDim], ordered as run_info.state_names.'),
    action: numberArray(
      'a [actionDim] as sent after the safety filter, ordered as run_info.action_names.',
    ),
    next_state: numberArray("s' [stateDim], one control period after state."),
    cost: { type: 'number', description: 'Running cost of this step.' },
    flags: {
      type: 'integer',
      minimum: 0,
      description:
        'Bitmask: 1 clamped, 2 rate_limited, 4 non_finite_replaced, 8 stale_state, ' +
        '16 ticks_dropped_before, 32 episode_end, 64 safe_action_sent, 128 faulted.',
    },
    model_version: {
      type: 'integer',
      minimum: 0,
      description: 'Residual model version that planned the action; 0 = analytic model only.',
    },
  },
  required: [
    't',
    'episode',
    'step',
    'state',
    'action',
    'next_state',
    'cost',
    'flags',
    'model_version',
  ],
} as const;

/** JSON Schema (draft 2020-12) of the one message on `/mpcd/run_info`. */
export const runInfoJsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: RUN_INFO_SCHEMA_NAME,
  description: 'Written once at the start of a transition log: what the numbers mean.',
  type: 'object',
  properties: {
    state_names: { type: 'array', items: { type: 'string' }, description: 'State slot names.' },
    action_names: { type: 'array', items: { type: 'string' }, description: 'Action slot names.' },
    control_period: { type: 'number', description: 'Control period, seconds.' },
    config: { type: 'string', description: 'Config file text of the run (YAML).' },
    start_time: {
      type: 'number',
      description: 'Wall-clock time of t = 0, seconds since the Unix epoch.',
    },
  },
  required: ['state_names', 'action_names', 'control_period', 'config', 'start_time'],
} as const;

/** JSON Schema (draft 2020-12) of a message on `/mpcd/events`. */
export const eventJsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: EVENT_SCHEMA_NAME,
  description:
    'A one-off link or safety event (a clock step, a robot restart), in file order between ' +
    'the transitions. Non-finite numbers are written as null.',
  type: 'object',
  properties: {
    t: {
      type: 'number',
      description: 'Seconds since the run started, same time base as the transitions.',
    },
    kind: { type: 'string', description: 'What happened, e.g. clock_step, robot_restart.' },
    detail: { type: 'object', description: 'What describes it; depends on kind.' },
  },
  required: ['t', 'kind', 'detail'],
} as const;
