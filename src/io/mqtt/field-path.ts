/**
 * Dotted field paths into decoded payloads ("pose.theta", "imu.gyro.2"): how a config names
 * where a state lives inside a robot's message. A segment that is all digits indexes an array.
 */
export type FieldPath = readonly string[];

export function parseFieldPath(path: string): FieldPath {
  return path.split('.');
}

/** The value at `path`, or undefined when any step is missing or not a container. */
export function readField(root: unknown, path: FieldPath): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (Array.isArray(node)) {
      if (!/^\d+$/.test(key)) return undefined;
      node = node[Number(key)];
    } else if (typeof node === 'object' && node !== null && Object.hasOwn(node, key)) {
      node = (node as Record<string, unknown>)[key];
    } else {
      return undefined;
    }
  }
  return node;
}

/** Sets `value` at `path`, creating objects (never arrays) on the way: for building outgoing payloads. */
export function writeField(root: Record<string, unknown>, path: FieldPath, value: unknown): void {
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    let next = node[key];
    if (typeof next !== 'object' || next === null) {
      next = {};
      node[key] = next;
    }
    node = next as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
