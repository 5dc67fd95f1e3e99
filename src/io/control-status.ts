/**
 * What the daemon is doing, published at `status.rate` (MQTT: `<prefix>/status/control`,
 * hardware/mqtt-contract.md "Control status"). Plain JSON/CBOR data; names, not indices.
 */
export interface ControlStatus {
  /** Daemon monotonic clock, s. */
  readonly t: number;
  readonly episode: number;
  readonly tick: number;
  /** The safety layer's arming state: disarmed, armed, running or faulted. */
  readonly mode: string;
  /** Faults active now (empty when none). */
  readonly faults: readonly string[];
  /** The live params in use: the current goal. */
  readonly goal: Readonly<Record<string, number>>;
  /** The state the last plan started from, and the action sent for it (null on an observing tick). */
  readonly state: Readonly<Record<string, number>>;
  readonly action: Readonly<Record<string, number>> | null;
  /** The first states of the plan as the model predicts them, `dt` s apart, rows in `state_names` order. */
  readonly plan: { readonly dt: number; readonly state_names: readonly string[]; readonly states: readonly (readonly number[])[] };
  /** What each cost term adds along the plan (running and terminal weights applied). */
  readonly costs: Readonly<Record<string, number>>;
  readonly planning_ms: number;
}
