import type { Observable } from 'rxjs';

/**
 * One timestamped reading of a sensor channel. `values` fill the state slots that the channel
 * is mapped to, in order. `stamp` is the plant's own time of the reading, in seconds.
 */
export interface Observation {
  readonly channel: string;
  readonly stamp: number;
  readonly values: ArrayLike<number>;
}

/**
 * The Plant port: the one interface that the simulator, MQTT and serial all implement.
 * The pipeline never knows which one it talks to.
 */
export interface PlantPort {
  /** Every channel this plant emits, with the state slots (indices into the state vector) each fills. */
  readonly channels: readonly { readonly name: string; readonly slots: readonly number[] }[];
  readonly observations$: Observable<Observation>;
  /** Non-blocking: hands the action [actionDim] to the plant and returns at once. */
  send(action: Float32Array): void;
  close(): Promise<void>;
}
