import { SIM_ROBOT_USAGE } from './usage.js';
import { resolve } from 'node:path';
import { distinctUntilChanged, filter, map, type Observable } from 'rxjs';
import { FaultInjector } from '../../sim/fault-injector.js';
import { parseFaultSpec } from '../../sim/fault-spec.js';
import { MqttRobotLink } from '../../sim/links/mqtt-robot-link.js';
import { SerialRobotLink } from '../../sim/links/serial-robot-link.js';
import { MujocoPlant } from '../../sim/mujoco-plant.js';
import type { RobotLink } from '../../sim/robot-link.js';
import { RobotClock } from '../../sim/robot-clock.js';
import { RobotRecorder } from '../../sim/robot-record.js';
import { VirtualRobot } from '../../sim/virtual-robot.js';
import { loadConfig } from '../config/load-config.js';
import { MpcdError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { loadMqttCredentials } from '../io/mqtt/mqtt-auth.js';
import { resolveMqttLayout } from '../io/mqtt/mqtt-layout.js';
import { MonotonicScheduler } from '../loop/clock.js';
import { sampleInitialState } from '../loop/initial-state.js';
import { perAction } from '../planning/build-planner.js';
import { createLogger } from '../telemetry/logger.js';

export interface SimRobotArgs {
  config: string;
  mqttUrl: string | undefined;
  serialPath: string | undefined;
  faults: readonly string[];
  record: string | undefined;
  seed: number | undefined;
  /** Seconds; undefined = until a signal. */
  duration: number | undefined;
  json: boolean;
}

interface Wired {
  link: RobotLink;
  channels: { name: string; slots: number[] }[];
  daemonSession$: Observable<unknown>;
  daemonGone$?: Observable<unknown>;
  transport: 'mqtt' | 'serial';
}

/** `mpcd sim-robot`: runs until SIGINT/SIGTERM (or --duration); a one-line summary on exit. */
export async function simRobotCommand(args: SimRobotArgs): Promise<number> {
  const loaded = await loadConfig(args.config);
  const c = loaded.config;
  const vr = c.virtual_robot;
  if (vr === undefined) {
    throw new MpcdError('VROBOT_CONFIG', `${loaded.path} has no virtual_robot section; add one (mjcf, state, actions) as in config/cartpole-mqtt.yaml`);
  }
  const specs = args.faults.map(parseFaultSpec);
  const log = createLogger('mpcd.virtual-robot');
  const scheduler = new MonotonicScheduler();
  // One robot clock for its stamps, e-stops and record, so that a clock fault moves them all.
  const robotClock = new RobotClock(scheduler);
  const clock = (): number => robotClock.now();
  const stateNames = vr.state.map((s) => s.name);
  const actionNames = vr.actions.map((a) => a.name);
  const rng = new Rng(args.seed ?? vr.seed ?? c.seed);
  const initRng = rng.fork();
  const recorder = args.record === undefined ? undefined : RobotRecorder.open(args.record, clock);
  const faults = new FaultInjector(specs, rng.fork(), scheduler, (spec, active) => {
    log.info({ fault: spec.text, active }, active ? 'fault on' : 'fault off');
    recorder?.write({ ev: 'fault', spec: spec.text, active });
  });

  const plant = await MujocoPlant.create({
    mjcfPath: resolve(loaded.dir, vr.mjcf),
    state: vr.state,
    actions: vr.actions,
    controlPeriod: vr.period ?? c.control.period / 2,
    mode: 'free_running',
    scheduler,
  });
  let wired: Wired;
  try {
    wired = await connect(loaded.path, c.plant, args, stateNames, faults, clock);
  } catch (err) {
    await plant.close();
    throw err;
  }
  const safeAction = perAction(c.safety.safe_action, actionNames, 0);
  recorder?.write({ ev: 'ready', transport: wired.transport, period: plant.controlPeriod, safe_action: Array.from(safeAction) });
  const robot = VirtualRobot.start({
    plant,
    link: wired.link,
    scheduler,
    channels: wired.channels,
    safeAction,
    initialState: () => sampleInitialState(c.scenario.initial_state, stateNames, initRng),
    linkTimeout: vr.link_timeout,
    faults,
    clock: robotClock,
    daemonSession$: wired.daemonSession$,
    ...(wired.daemonGone$ !== undefined ? { daemonGone$: wired.daemonGone$ } : {}),
    ...(recorder !== undefined ? { recorder } : {}),
    logger: log,
  });
  log.info({ config: loaded.path, transport: wired.transport, faults: specs.map((s) => s.text), record: args.record ?? null }, 'virtual robot ready');

  await new Promise<void>((done) => {
    const stop = (): void => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (args.duration !== undefined) setTimeout(stop, args.duration * 1000).unref();
  });
  await robot.close();
  recorder?.close();
  const summary = { ...robot.counts, faults: faults.counts, link_dropped: wired.link.dropped.count };
  process.stdout.write(args.json ? `${JSON.stringify(summary)}\n` : `virtual robot: ${summary.applied}/${summary.commands} commands applied, ${summary.published} readings published, ${summary.resets} resets\n`);
  return 0;
}

async function connect(
  path: string,
  p: Awaited<ReturnType<typeof loadConfig>>['config']['plant'],
  args: SimRobotArgs,
  stateNames: readonly string[],
  faults: FaultInjector,
  clock: () => number,
): Promise<Wired> {
  if (args.mqttUrl !== undefined && args.serialPath !== undefined) throw new MpcdError('USAGE', 'give --mqtt or --serial, not both');
  if (p.kind === 'mqtt') {
    if (args.serialPath !== undefined) throw new MpcdError('USAGE', `--serial needs plant.kind: serial, but ${path} has plant.kind: mqtt`);
    const url = args.mqttUrl ?? p.url;
    const layout = resolveMqttLayout(p, stateNames);
    const link = await MqttRobotLink.connect(url, {
      layout,
      keepalive: p.keepalive,
      connectTimeout: p.connect_timeout,
      reconnect: p.reconnect,
      credentials: loadMqttCredentials(p, url),
      outgoing: faults.bytesHook,
      clock,
    });
    return {
      link,
      transport: 'mqtt',
      channels: layout.channels.map((ch) => ({ name: ch.name, slots: [...ch.slots] })),
      daemonSession$: link.daemonPresence$.pipe(
        map((m) => m.session),
        distinctUntilChanged(),
      ),
      daemonGone$: link.daemonPresence$.pipe(filter((m) => m.status === 'offline')),
    };
  }
  if (p.kind === 'serial') {
    if (args.mqttUrl !== undefined) throw new MpcdError('USAGE', `--mqtt needs plant.kind: mqtt, but ${path} has plant.kind: serial`);
    if (args.serialPath === undefined) {
      throw new MpcdError('USAGE', "the virtual robot needs --serial PATH: its own end of the pty pair (the config's port is the daemon's end)");
    }
    const channels = p.channels.map((ch) => ({
      name: ch.name,
      slots: ch.states.map((s) => {
        const i = stateNames.indexOf(s);
        if (i < 0) throw new MpcdError('VROBOT_CONFIG', `plant.channels '${ch.name}' maps '${s}', which is not a state of virtual_robot (${stateNames.join(', ')})`);
        return i;
      }),
    }));
    const link = await SerialRobotLink.open(args.serialPath, {
      framing: p.framing,
      baud: p.baud,
      channels: p.channels.map((ch) => ({ id: ch.id, name: ch.name })),
      outgoing: faults.bytesHook,
      clock,
    });
    return { link, transport: 'serial', channels, daemonSession$: link.daemonSession$ };
  }
  throw new MpcdError('VROBOT_CONFIG', `${path}: the virtual robot speaks mqtt or serial, and this config has plant.kind: sim; \`mpcd run\` runs the sim in-process`);
}
