import { readFileSync } from 'node:fs';
import type { MqttPlantConfig } from '../../config/mqtt-plant-schema.js';
import { MpcdError } from '../../core/errors.js';

export interface MqttCredentials {
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer; readonly rejectUnauthorized: boolean } | undefined;
}

/**
 * Username, password (from the environment variable the config names, so it never sits in YAML)
 * and TLS files. Throws MpcdError 'MQTT_AUTH' or 'MQTT_TLS' with what to fix.
 */
export function loadMqttCredentials(cfg: MqttPlantConfig, url: string, env: NodeJS.ProcessEnv = process.env): MqttCredentials {
  let password: string | undefined;
  if (cfg.password_env !== undefined) {
    password = env[cfg.password_env];
    if (password === undefined) {
      throw new MpcdError('MQTT_AUTH', `plant.password_env names ${cfg.password_env}, but it is not set; export ${cfg.password_env} with the broker password, or remove password_env`);
    }
    if (cfg.username === undefined) throw new MpcdError('MQTT_AUTH', 'plant.password_env is set but plant.username is not; MQTT sends a password only with a username');
  }
  if (cfg.tls === undefined) return { username: cfg.username, password };
  if (!/^(mqtts|wss):/i.test(url)) {
    throw new MpcdError('MQTT_TLS', `plant.tls is set but the URL ${url} is not encrypted; use mqtts://host:8883 (or wss://)`);
  }
  const read = (what: string, file: string | undefined): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new MpcdError('MQTT_TLS', `cannot read plant.tls.${what} '${file}': ${(err as Error).message}; give a readable PEM file`);
    }
  };
  const ca = read('ca', cfg.tls.ca);
  const cert = read('cert', cfg.tls.cert);
  const key = read('key', cfg.tls.key);
  return {
    username: cfg.username,
    password,
    tls: {
      ...(ca !== undefined ? { ca } : {}),
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
      rejectUnauthorized: cfg.tls.reject_unauthorized,
    },
  };
}
