import type { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import type { SerialPlantConfig } from '../../config/serial-plant-schema.js';
import { MpcdError } from '../../core/errors.js';

/** The part of a `serialport` SerialPort that the plant and the robot link use. */
export interface SerialByteStream extends EventEmitter {
  write(data: Uint8Array): boolean;
  /** Bytes queued in the stream, not yet handed to the OS. */
  readonly writableLength: number;
  readonly isOpen: boolean;
  close(callback?: (err: Error | null) => void): void;
}

/** One entry of SerialPort.list(). */
export interface PortListing {
  readonly path: string;
  readonly vendorId?: string | undefined;
  readonly productId?: string | undefined;
  readonly serialNumber?: string | undefined;
  readonly manufacturer?: string | undefined;
}

/** How ports are found and opened; the default is `serialport`, tests may pass their own. */
export interface SerialPorts {
  list(): Promise<readonly PortListing[]>;
  /** Resolves once the port is open; rejects with the OS's reason. */
  open(path: string, baudRate: number): Promise<SerialByteStream>;
}

export const nodeSerialPorts: SerialPorts = {
  list: () => SerialPort.list(),
  open: (path, baudRate) =>
    new Promise((resolve, reject) => {
      const port = new SerialPort({ path, baudRate, autoOpen: false });
      port.open((err) => (err ? reject(err) : resolve(port)));
    }),
};

/**
 * The device path to open: the CLI's --serial override, the configured path, or the port whose
 * USB ids match (listed afresh each time, since a replugged board may come back as another
 * ttyACMn). Throws MpcdError SERIAL_NOT_FOUND naming what it saw.
 */
export async function resolvePortPath(port: SerialPlantConfig['port'], override: string | undefined, ports: SerialPorts): Promise<string> {
  if (override !== undefined) return override;
  if ('path' in port) return port.path;
  const seen = await ports.list();
  const norm = (id: string | undefined) => (id ?? '').toLowerCase().replace(/^0x/, '');
  const match = seen.find(
    (p) =>
      norm(p.vendorId) === port.vendor_id &&
      norm(p.productId) === port.product_id &&
      (port.serial_number === undefined || p.serialNumber === port.serial_number),
  );
  if (match !== undefined) return match.path;
  const want = `${port.vendor_id}:${port.product_id}${port.serial_number === undefined ? '' : ` serial ${port.serial_number}`}`;
  const listing = seen.map((p) => `${p.path} (${p.vendorId ?? '?'}:${p.productId ?? '?'}${p.manufacturer ? `, ${p.manufacturer}` : ''})`);
  throw new MpcdError(
    'SERIAL_NOT_FOUND',
    `no serial port with USB id ${want} is connected; plug the robot in, check the ids with \`lsusb\`, or give the port with --serial PATH`,
    listing.length > 0 ? listing : ['no serial ports found at all'],
  );
}
