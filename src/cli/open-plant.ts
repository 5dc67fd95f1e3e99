import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { MujocoPlant } from '../../sim/mujoco-plant.js';
import type { LoadedConfig } from '../config/load-config.js';
import { MpcdError } from '../core/errors.js';
import { MqttPlant } from '../io/mqtt/mqtt-plant.js';
import type { PlantPort } from '../io/plant.js';
import { SerialPlant } from '../io/serial/serial-plant.js';
import { MonotonicScheduler } from '../loop/clock.js';
import type { OpenedPlant, PlantNames, PlantOpener } from '../loop/sim-session.js';

/** Command-line overrides of where the plant is: `--mqtt URL` or `--serial PATH`. */
export interface PlantOverrides {
  mqttUrl?: string;
  serialPath?: string;
}

export interface OpenPlantOptions extends PlantOverrides, PlantNames {
  /** Sim only: free-running in real time, or lock-step (driven by sends in virtual time). */
  realtime: boolean;
  logger?: Logger;
}

/**
 * The plant opener a control session is given (the CLI is the composition root: the pipeline
 * never knows whether it talks to the simulator or a robot).
 */
export function plantOpener(loaded: LoadedConfig, opts: PlantOverrides & { realtime?: boolean; logger?: Logger } = {}): PlantOpener {
  return (names) => openPlant(loaded, { ...opts, ...names, realtime: opts.realtime === true });
}

/**
 * Opens the config's plant, with `--mqtt` / `--serial` pointing a wire plant elsewhere.
 * Throws MpcdError PLANT_OVERRIDE when an override does not fit `plant.kind`, and whatever
 * the transport throws when it cannot connect or open.
 */
export async function openPlant(loaded: LoadedConfig, opts: OpenPlantOptions): Promise<OpenedPlant> {
  const c = loaded.config;
  const p = c.plant;
  checkOverrides(loaded, opts);
  const common = { stateNames: opts.stateNames, actionNames: opts.actionNames, controlPeriod: c.control.period };
  switch (p.kind) {
    case 'sim': {
      const plant = await MujocoPlant.create({
        mjcfPath: resolve(loaded.dir, p.mjcf),
        state: p.state,
        actions: p.actions,
        controlPeriod: c.control.period,
        mode: opts.realtime ? 'free_running' : 'lockstep',
        scheduler: new MonotonicScheduler(),
      });
      return { plant, description: { kind: 'sim', mjcf: p.mjcf, mode: opts.realtime ? 'real time' : 'lock-step virtual time' } };
    }
    case 'mqtt': {
      const plant = await MqttPlant.connect(p, {
        ...common,
        ...(opts.mqttUrl !== undefined ? { urlOverride: opts.mqttUrl } : {}),
        ...(opts.logger !== undefined ? { log: opts.logger } : {}),
      });
      return { plant, description: { kind: 'mqtt', url: plant.url, client_id: p.client_id, topic_prefix: p.topic_prefix } };
    }
    case 'serial': {
      const plant = await SerialPlant.open(p, {
        ...common,
        ...(opts.serialPath !== undefined ? { portOverride: opts.serialPath } : {}),
        ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
      });
      const port = opts.serialPath ?? ('path' in p.port ? p.port.path : `usb ${p.port.vendor_id}:${p.port.product_id}`);
      return { plant, description: { kind: 'serial', port, framing: p.framing, baud: p.baud } };
    }
  }
}

function checkOverrides(loaded: LoadedConfig, opts: PlantOverrides): void {
  const kind: string = loaded.config.plant.kind;
  if (opts.mqttUrl !== undefined && opts.serialPath !== undefined) {
    throw new MpcdError('PLANT_OVERRIDE', 'give --mqtt or --serial, not both: a config has one plant');
  }
  if (opts.mqttUrl !== undefined && kind !== 'mqtt') {
    throw new MpcdError('PLANT_OVERRIDE', `--mqtt needs plant.kind: mqtt, but ${loaded.path} has plant.kind: ${kind}; use a config like config/cartpole-mqtt.yaml`);
  }
  if (opts.serialPath !== undefined && kind !== 'serial') {
    throw new MpcdError('PLANT_OVERRIDE', `--serial needs plant.kind: serial, but ${loaded.path} has plant.kind: ${kind}; use a config like config/cartpole-serial.yaml`);
  }
}
