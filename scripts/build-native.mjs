#!/usr/bin/env node
/**
 * Builds the native kernels (native/kernels) with node-gyp, on the machine that will run
 * it. Run by `npm ci` / `npm install` (the package's `install` script): it prints one line saying
 * what it built or why it did not, and always exits 0, so that installing never fails where
 * there is no compiler; the planner then uses a portable kernel. `--strict` (for
 * `npm run build:native`) exits 1 on failure and prints the end of the build log.
 *
 * MPCD_NO_NATIVE=1 skips the build. The full node-gyp log is kept in
 * native/kernels/build/build-native.log.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addonDir = join(root, 'native', 'kernels');
const buildDir = join(addonDir, 'build');
const addonPath = join(buildDir, 'Release', 'mpcd_kernels.node');
const logPath = join(buildDir, 'build-native.log');
const strict = process.argv.includes('--strict');
const BUILD_TIMEOUT_MS = 5 * 60 * 1000;

function say(line) {
  console.log(`mpcd: ${line}`);
}

/** How to run node-gyp: npm's own copy when run by npm, else npm's bundled one, else npx. */
function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) {
    // npm 7+ points at node-gyp.js; older ones at a shell wrapper that runs by itself.
    return /\.[cm]?js$/.test(fromNpm) ? { command: process.execPath, args: [fromNpm], via: fromNpm } : { command: fromNpm, args: [], via: fromNpm };
  }
  const binDir = dirname(process.execPath);
  const bundled = [
    join(binDir, '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'), // Unix prefix layout
    join(binDir, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'), // Windows layout
  ].find((p) => existsSync(p));
  if (bundled) return { command: process.execPath, args: [bundled], via: bundled };
  return { command: process.platform === 'win32' ? 'npx.cmd' : 'npx', args: ['node-gyp'], via: 'npx node-gyp', shell: process.platform === 'win32' };
}

/**
 * Node's own headers when they are installed beside the binary (distribution packages, official
 * tarballs), so that node-gyp need not download them; npm passes its `nodedir` config itself.
 */
function localNodeDirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'common.gypi')) ? [`--nodedir=${prefix}`] : [];
}

/** The line of a build log that best says what went wrong: compiler, gyp (Python), then node-gyp. */
function failureReason(log) {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const compiler = lines.find((l) => /\b(fatal )?error: /.test(l) && !l.startsWith('gyp '));
  const gypStack = lines.find((l) => /^gyp ERR! stack \w*Error: /.test(l))?.replace(/^gyp ERR! stack /, '');
  const python = lines.findLast((l) => /^\w*(Error|Exception): /.test(l));
  const gyp = lines.find((l) => l.startsWith('gyp ERR! ') && !/^gyp ERR! (find Python|stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(l));
  return (compiler ?? python ?? gypStack ?? gyp ?? lines.at(-1) ?? 'no output').slice(0, 300);
}

function writeLog(text) {
  try {
    mkdirSync(buildDir, { recursive: true });
    writeFileSync(logPath, text);
  } catch {
    // The log is a convenience; failing to write it must not fail the install.
  }
}

/** Loads the built addon in a child process (a bad binary must not take the installer down). */
function probe() {
  const code = `process.stdout.write(require(${JSON.stringify(addonPath)}).isa())`;
  const run = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 30_000 });
  if (run.status === 0) return { isa: run.stdout.trim() };
  return { error: (run.stderr || run.error?.message || `exit ${run.status ?? run.signal}`).split('\n').find((l) => /Error/.test(l)) ?? 'it does not load' };
}

function main() {
  if (process.env.MPCD_NO_NATIVE === '1') {
    say('native kernels not built (MPCD_NO_NATIVE=1); the planner will use a portable kernel');
    return 0;
  }
  const gyp = findNodeGyp();
  const args = [...gyp.args, 'rebuild', ...localNodeDirArgs()];
  const run = spawnSync(gyp.command, args, { cwd: addonDir, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS, shell: gyp.shell ?? false, env: process.env });
  const log = `$ ${gyp.command} ${args.join(' ')}\n${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? `\n${run.error.message}\n` : ''}`;
  writeLog(log);
  const where = relative(root, addonPath);
  if (run.error || run.status !== 0 || !existsSync(addonPath)) {
    const reason = run.error?.message ?? failureReason(log);
    say(`native kernels not built (${reason}); the planner will use a portable kernel. Log: ${relative(root, logPath)}`);
    if (strict) console.error(log.split('\n').slice(-40).join('\n'));
    return strict ? 1 : 0;
  }
  const loaded = probe();
  if (loaded.error !== undefined) {
    say(`native kernels built at ${where} but does not load (${loaded.error}); the planner will use a portable kernel`);
    return strict ? 1 : 0;
  }
  say(`built native kernels (${loaded.isa}) at ${where} with ${gyp.via}`);
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  say(`native kernels not built (${err instanceof Error ? err.message : String(err)}); the planner will use a portable kernel`);
  process.exitCode = strict ? 1 : 0;
}
