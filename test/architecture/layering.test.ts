import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';

/**
 * The layering rules of DESIGN.md ("Layering (kept by a test)"), checked on the TypeScript
 * sources: every import of every file under src/, resolved to the project folder it lands in.
 */
const ROOT = join(import.meta.dirname, '..', '..', '..');

/** [from, to, why]: files under `from` must not import anything under `to`. */
const FORBIDDEN: readonly (readonly [string, string, string])[] = [
  ['src/loop', 'sim', 'the pipeline never knows it is simulated: the CLI builds the plant'],
  ['src/safety', 'src/planning', 'safety must work when planning does not'],
  ['src/models', 'src/planning', 'models are used by planners, not the other way'],
  ['src/models', 'src/learning', 'models are what learning fits, not its users'],
  ['src/io', 'src/planning', 'transports carry readings and actions, nothing of the plan'],
];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Project-relative paths (posix) of every relative import of `file`, static, re-export and dynamic. */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => relative(ROOT, resolve(dirname(file), s)).split(sep).join('/'));
}

const within = (path: string, folder: string): boolean => path === folder || path.startsWith(`${folder}/`);

test('the layering rules hold for every import under src/', () => {
  const files = sources(join(ROOT, 'src'));
  assert.ok(files.length > 100, `found only ${files.length} sources under ${ROOT}/src`);
  const broken: string[] = [];
  for (const file of files) {
    const from = relative(ROOT, file).split(sep).join('/');
    for (const target of importsOf(file)) {
      for (const [a, b, why] of FORBIDDEN) if (within(from, a) && within(target, b)) broken.push(`${from} imports ${target}: ${a} must not use ${b} (${why})`);
      // Core is the shared vocabulary: it uses nothing of the project but itself.
      if (within(from, 'src/core') && !within(target, 'src/core')) broken.push(`${from} imports ${target}: src/core imports nothing of the project`);
    }
  }
  assert.deepEqual(broken, []);
});

test('the layering check sees the imports it is meant to catch', () => {
  // A rule that matches nothing would pass on any tree: check the parser on a file known to import.
  const found = importsOf(join(ROOT, 'src', 'loop', 'sim-session.ts'));
  assert.ok(found.includes('src/loop/control-loop.js'), found.join(', '));
  assert.ok(found.some((p) => within(p, 'src/planning')), 'sim-session uses the planner');
});
