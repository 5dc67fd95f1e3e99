import type { MjModel } from 'mujoco-js';
import { MpcdError } from '../src/core/errors.js';
import type { Mujoco } from '../src/models/rigid-body/mujoco-runtime.js';

/** Where one entry of the state vector comes from: a scalar joint's qpos/qvel, or a 1-D sensor. */
export type StateSource = { name: string; joint: string; field: 'qpos' | 'qvel' } | { name: string; sensor: string };
/** Which actuator one entry of the action vector drives (its `ctrl`). */
export type ActionTarget = { name: string; actuator: string };

/** Buffers a state slot is read from or written to. */
export const QPOS = 0;
export const QVEL = 1;
export const SENSOR = 2;
/** writeTo value of a slot that cannot be set (a sensor that is not a joint's position/velocity). */
export const NOT_SETTABLE = -1;

/**
 * A StateSource/ActionTarget list resolved into MuJoCo addresses, as flat arrays so that the
 * per-step copies need no lookups and no allocation.
 */
export interface StateMap {
  readonly stateNames: readonly string[];
  readonly actionNames: readonly string[];
  /** [nx] QPOS | QVEL | SENSOR, and the address in that buffer. */
  readonly readFrom: Uint8Array;
  readonly readAdr: Int32Array;
  /** [nx] QPOS | QVEL | NOT_SETTABLE: where `writeState` puts the slot (jointpos/jointvel sensors map to their joint). */
  readonly writeTo: Int8Array;
  readonly writeAdr: Int32Array;
  /** [nu] index into ctrl (the actuator id). */
  readonly ctrlAdr: Int32Array;
  /** True when a slot reads sensordata, which MuJoCo computes before integrating, so it needs an mj_forward after stepping. */
  readonly usesSensors: boolean;
}

/** Live Float64Array views into MjData; re-fetch them when WASM memory grows (views detach). */
export interface MjDataViews {
  qpos: Float64Array;
  qvel: Float64Array;
  ctrl: Float64Array;
  sensordata: Float64Array;
}

/**
 * Resolves names to addresses, validating that every joint, sensor and actuator exists and is
 * scalar. Throws MpcdError 'SIM_MAPPING' listing every problem and the names the model has.
 */
export function resolveStateMap(
  mj: Mujoco,
  model: MjModel,
  state: readonly StateSource[],
  actions: readonly ActionTarget[],
): StateMap {
  const { mjOBJ_JOINT, mjOBJ_SENSOR, mjOBJ_ACTUATOR } = mj.mjtObj;
  const slide = mj.mjtJoint.mjJNT_SLIDE.value;
  const hinge = mj.mjtJoint.mjJNT_HINGE.value;
  const jointPosSensor = mj.mjtSensor.mjSENS_JOINTPOS.value;
  const jointVelSensor = mj.mjtSensor.mjSENS_JOINTVEL.value;
  const jntType = model.jnt_type as Int32Array;
  const jntQposAdr = model.jnt_qposadr as Int32Array;
  const jntDofAdr = model.jnt_dofadr as Int32Array;
  const sensorType = model.sensor_type as Int32Array;
  const sensorObjId = model.sensor_objid as Int32Array;
  const sensorAdr = model.sensor_adr as Int32Array;
  const sensorDim = model.sensor_dim as Int32Array;

  const problems: string[] = [];
  const nx = state.length;
  const readFrom = new Uint8Array(nx);
  const readAdr = new Int32Array(nx);
  const writeTo = new Int8Array(nx);
  const writeAdr = new Int32Array(nx);
  let usesSensors = false;

  const scalarJoint = (id: number, jointName: string): boolean => {
    const type = jntType[id];
    if (type === slide || type === hinge) return true;
    problems.push(`joint '${jointName}' is not a hinge or slide joint (it has several coordinates); map only scalar joints`);
    return false;
  };

  if (nx === 0) problems.push('the state list is empty; map at least one joint or sensor');
  state.forEach((src, i) => {
    if ('joint' in src) {
      const id = mj.mj_name2id(model, mjOBJ_JOINT.value, src.joint);
      if (id < 0) {
        problems.push(
          `state '${src.name}': no joint named '${src.joint}'; joints in the model: ${listNames(model, model.name_jntadr as Int32Array, model.njnt)}`,
        );
        return;
      }
      if (!scalarJoint(id, src.joint)) return;
      const kind = src.field === 'qpos' ? QPOS : QVEL;
      const adr = src.field === 'qpos' ? jntQposAdr[id]! : jntDofAdr[id]!;
      readFrom[i] = kind;
      readAdr[i] = adr;
      writeTo[i] = kind;
      writeAdr[i] = adr;
    } else {
      const id = mj.mj_name2id(model, mjOBJ_SENSOR.value, src.sensor);
      if (id < 0) {
        problems.push(
          `state '${src.name}': no sensor named '${src.sensor}'; sensors in the model: ${listNames(model, model.name_sensoradr as Int32Array, model.nsensor)}`,
        );
        return;
      }
      if (sensorDim[id] !== 1) {
        problems.push(`state '${src.name}': sensor '${src.sensor}' has ${sensorDim[id]} values; map only 1-D sensors`);
        return;
      }
      usesSensors = true;
      readFrom[i] = SENSOR;
      readAdr[i] = sensorAdr[id]!;
      writeTo[i] = NOT_SETTABLE;
      const joint = sensorObjId[id]!;
      const type = sensorType[id];
      // A joint's position/velocity sensor reads exactly that joint's qpos/qvel, so reset can set it.
      if ((type === jointPosSensor || type === jointVelSensor) && (jntType[joint] === slide || jntType[joint] === hinge)) {
        writeTo[i] = type === jointPosSensor ? QPOS : QVEL;
        writeAdr[i] = type === jointPosSensor ? jntQposAdr[joint]! : jntDofAdr[joint]!;
      }
    }
  });

  const ctrlAdr = new Int32Array(actions.length);
  actions.forEach((target, i) => {
    const id = mj.mj_name2id(model, mjOBJ_ACTUATOR.value, target.actuator);
    if (id < 0) {
      problems.push(
        `action '${target.name}': no actuator named '${target.actuator}'; actuators in the model: ${listNames(model, model.name_actuatoradr as Int32Array, model.nu)}`,
      );
      return;
    }
    ctrlAdr[i] = id;
  });

  if (problems.length > 0) {
    throw new MpcdError('SIM_MAPPING', 'the state/action mapping does not fit the MJCF model; fix the names', problems);
  }
  return {
    stateNames: state.map((s) => s.name),
    actionNames: actions.map((a) => a.name),
    readFrom,
    readAdr,
    writeTo,
    writeAdr,
    ctrlAdr,
    usesSensors,
  };
}

/**
 * Names of every object of one kind, from the model's name table (mj_id2name in this WASM
 * build returns garbage, not null, for unnamed objects).
 */
function listNames(model: MjModel, nameAdr: Int32Array, count: number): string {
  if (count === 0) return '(none)';
  const table = model.names as Int8Array;
  const names: string[] = [];
  for (let id = 0; id < count; id++) {
    let name = '';
    for (let i = nameAdr[id]!; i < table.length && table[i] !== 0; i++) name += String.fromCharCode(table[i]!);
    names.push(name || `#${id} (unnamed)`);
  }
  return names.join(', ');
}

/** Copies the mapped state into `out` [nx]. Hinge angles come as MuJoCo has them (unwrapped). */
export function readState(map: StateMap, v: MjDataViews, out: Float64Array): void {
  const { readFrom, readAdr } = map;
  for (let i = 0; i < readFrom.length; i++) {
    const adr = readAdr[i]!;
    const from = readFrom[i];
    out[i] = from === QPOS ? v.qpos[adr]! : from === QVEL ? v.qvel[adr]! : v.sensordata[adr]!;
  }
}

/** Writes a state vector [nx] into qpos/qvel; slots that are NOT_SETTABLE are ignored. */
export function writeState(map: StateMap, v: MjDataViews, values: ArrayLike<number>): void {
  const { writeTo, writeAdr } = map;
  for (let i = 0; i < writeTo.length; i++) {
    const to = writeTo[i];
    if (to === QPOS) v.qpos[writeAdr[i]!] = values[i]!;
    else if (to === QVEL) v.qvel[writeAdr[i]!] = values[i]!;
  }
}

/** Writes an action vector [nu] into ctrl; MuJoCo clamps to ctrlrange when it uses ctrl. */
export function writeActions(map: StateMap, v: MjDataViews, action: ArrayLike<number>): void {
  const { ctrlAdr } = map;
  for (let i = 0; i < ctrlAdr.length; i++) v.ctrl[ctrlAdr[i]!] = action[i]!;
}
