import type { z } from 'zod';

/** `a.b[2].c` from a zod issue path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** What was found, short enough for one line. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
  return `${typeof value} ${String(value)}`;
}

/**
 * One line per zod issue: the field's path, what was expected, and what was found.
 * Unions report the closest branch's problem rather than "invalid input".
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    const where = formatPath(path);
    const found = 'input' in issue ? describeValue(issue.input) : undefined;
    switch (issue.code) {
      case 'invalid_type':
        lines.push(`${where}: expected ${issue.expected}, found ${found ?? 'something else'}`);
        break;
      case 'unrecognized_keys':
        lines.push(
          ...issue.keys.map((k) => `${formatPath([...path, k])}: unknown field; remove it or check its spelling`),
        );
        break;
      case 'invalid_union':
        if ('note' in issue && issue.note === 'No matching discriminator') {
          // zod reports the parent object as the input; the value found is its discriminator.
          const key = 'discriminator' in issue ? String(issue.discriminator) : '';
          const parent = issue.input as Record<string, unknown> | undefined;
          const options = 'options' in issue && Array.isArray(issue.options) ? issue.options : [];
          lines.push(`${where}: expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, found ${describeValue(parent?.[key])}`);
        } else {
          // Report the branch that got furthest: the one with the fewest issues.
          const best = [...issue.errors].sort((a, b) => a.length - b.length)[0];
          if (best !== undefined && best.length > 0) lines.push(...formatIssues(best, path));
          else lines.push(`${where}: ${issue.message}`);
        }
        break;
      case 'invalid_value':
        lines.push(`${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, found ${found ?? 'something else'}`);
        break;
      default:
        lines.push(`${where}: ${issue.message}${found !== undefined ? `, found ${found}` : ''}`);
    }
  }
  return lines;
}
