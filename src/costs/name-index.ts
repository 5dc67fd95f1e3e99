import { MpcdError } from '../core/errors.js';

/**
 * Resolves a config map keyed by state or action names into (index, value) pairs, with an error
 * that names the field and lists the known names when a key is unknown.
 */
export function resolveNamed<T>(
  map: Readonly<Record<string, T>>,
  names: readonly string[],
  fieldPath: string,
): { index: number; value: T }[] {
  return Object.entries(map).map(([name, value]) => {
    const index = names.indexOf(name);
    if (index < 0) {
      throw new MpcdError(
        'CONFIG_NAME',
        `${fieldPath}.${name}: unknown name "${name}"; expected one of: ${names.join(', ')}`,
      );
    }
    return { index, value };
  });
}
