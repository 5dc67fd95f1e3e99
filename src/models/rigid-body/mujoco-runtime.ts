import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import loadMujoco from 'mujoco-js';
import type { MainModule, MjModel } from 'mujoco-js';
import { MpcdError } from '../../core/errors.js';

export type Mujoco = MainModule;

/** How many of MuJoCo's recent printed lines are kept, for error messages and diagnostics. */
const MESSAGE_LINES = 32;
const messages: string[] = [];
let modulePromise: Promise<Mujoco> | undefined;
let instantiated: Mujoco | undefined;
let printedTotal = 0;
let loadCounter = 0;

function remember(line: string): void {
  printedTotal += 1;
  messages.push(line);
  if (messages.length > MESSAGE_LINES) messages.shift();
}

/**
 * The MuJoCo WASM module, instantiated once per process. MuJoCo's own printing (warnings,
 * loader messages) is captured instead of going to stdout, see `mujocoMessages`.
 */
export function getMujoco(): Promise<Mujoco> {
  modulePromise ??= loadMujoco({ print: remember, printErr: remember }).then(
    (mj) => (instantiated = mj),
    (err: unknown) => {
      modulePromise = undefined; // let a later call try again
      throw new MpcdError('SIM_WASM', `could not instantiate the MuJoCo WASM module: ${String(err)}`);
    },
  );
  return modulePromise;
}

/**
 * The MuJoCo module where `getMujoco()` has already instantiated it: WASM instantiation is the one
 * asynchronous step, compiling a model is not. Throws (a programming error, not the user's) where
 * nothing awaited getMujoco() first.
 */
export function mujocoNow(): Mujoco {
  if (instantiated === undefined) throw new Error('MuJoCo is not instantiated yet: await getMujoco() before compiling a model synchronously');
  return instantiated;
}

/** The last lines MuJoCo printed (warnings and loader messages), oldest first. */
export function mujocoMessages(): readonly string[] {
  return [...messages];
}

/** Folders never copied into the virtual FS along with an MJCF. */
const SKIPPED_DIRS = new Set(['node_modules']);
/** The copy lives in memory: refuse to mirror a folder that is clearly not a model's own. */
const MAX_COPY_BYTES = 256 * 1024 * 1024;

/**
 * Loads an MJCF file from the real filesystem and compiles it.
 *
 * MuJoCo reads files only from its in-memory virtual FS, so the whole folder of the MJCF
 * (recursively, skipping dot-entries and node_modules) is copied there first: `<include>`d
 * files, meshes and textures must sit in that folder or below it, referenced by relative paths.
 * The copies are removed again once the model is compiled. Keep each model in a folder of its
 * own: a folder over 256 MiB is refused.
 *
 * Throws MpcdError 'SIM_MJCF' naming the file and MuJoCo's reason when the file is missing or
 * MuJoCo rejects it. The caller owns the returned model and must `.delete()` it.
 */
export async function loadMjcf(mjcfPath: string): Promise<MjModel> {
  await getMujoco();
  return loadMjcfNow(mjcfPath);
}

/** loadMjcf once getMujoco() has resolved (see mujocoNow). */
export function loadMjcfNow(mjcfPath: string): MjModel {
  const mj = mujocoNow();
  const hostFile = resolve(mjcfPath);
  let isFile = false;
  try {
    isFile = statSync(hostFile).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile) throw new MpcdError('SIM_MJCF', `MJCF file ${hostFile} does not exist or is not a file; check the path`);

  loadCounter += 1;
  const vfsDir = `/mpcd-mjcf/${loadCounter}`;
  mj.FS.mkdirTree(vfsDir, 0o777);
  try {
    copyTree(mj, dirname(hostFile), vfsDir, { bytes: 0, mjcf: hostFile });
    const vfsFile = `${vfsDir}/${basename(hostFile)}`;
    const printedBefore = printedTotal;
    const rejected = (reason: string): MpcdError =>
      new MpcdError('SIM_MJCF', `MuJoCo rejected ${hostFile}: ${reason.replaceAll(vfsDir, dirname(hostFile))}`);
    let model: MjModel | null;
    try {
      model = mj.MjModel.loadFromXML(vfsFile) as MjModel | null;
    } catch (err) {
      throw rejected(describeLoadError(mj, err));
    }
    if (!model) {
      // Parse errors and missing files come back as null, with the reason printed.
      const fresh = Math.min(printedTotal - printedBefore, messages.length);
      const reason = fresh > 0 ? messages.slice(-fresh).join(' ').replace(/\s+/g, ' ').trim() : '';
      throw rejected(reason || 'no reason given');
    }
    return model;
  } finally {
    removeTree(mj, vfsDir);
  }
}

function copyTree(mj: Mujoco, hostDir: string, vfsDir: string, budget: { bytes: number; readonly mjcf: string }): void {
  for (const entry of readdirSync(hostDir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const host = join(hostDir, entry.name);
    const vfs = `${vfsDir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (SKIPPED_DIRS.has(entry.name)) continue;
      mj.FS.mkdir(vfs);
      copyTree(mj, host, vfs, budget);
    } else if (entry.isFile()) {
      const content = readFileSync(host);
      budget.bytes += content.length;
      if (budget.bytes > MAX_COPY_BYTES) {
        throw new MpcdError(
          'SIM_MJCF',
          `the folder of ${budget.mjcf} holds over ${MAX_COPY_BYTES >> 20} MiB; MuJoCo gets a copy of the whole folder, so move the MJCF and its assets into a folder of their own`,
        );
      }
      mj.FS.writeFile(vfs, content);
    }
  }
}

function removeTree(mj: Mujoco, vfsPath: string): void {
  try {
    const node = mj.FS.stat(vfsPath, false) as { mode: number };
    if (mj.FS.isDir(node.mode)) {
      for (const name of mj.FS.readdir(vfsPath) as string[]) {
        if (name !== '.' && name !== '..') removeTree(mj, `${vfsPath}/${name}`);
      }
      mj.FS.rmdir(vfsPath);
    } else {
      mj.FS.unlink(vfsPath);
    }
  } catch {
    // Best effort: a leftover in the in-memory FS costs memory, not correctness.
  }
}

/**
 * MuJoCo's XML (mjXError) and compiler (mjCError) errors escape the WASM build as C++
 * exceptions whose object starts with a NUL-terminated `char message[]`; read it from the heap.
 */
function describeLoadError(mj: Mujoco, err: unknown): string {
  const excPtr = (err as { excPtr?: unknown } | null)?.excPtr;
  const kind = err instanceof Error ? err.message || err.name : String(err);
  if (typeof excPtr !== 'number') return kind;
  let text = '';
  try {
    text = readCString(mj, excPtr);
  } catch {
    text = '';
  } finally {
    try {
      // Present at run time, missing from the package's typings.
      (mj as unknown as { decrementExceptionRefcount?: (e: unknown) => void }).decrementExceptionRefcount?.(err);
    } catch {
      // Freeing the exception object is best effort.
    }
  }
  return text ? text.replace(/\s+/g, ' ').trim() : `${kind} (no message)`;
}

function readCString(mj: Mujoco, ptr: number): string {
  // The module exports no HEAPU8; any embind memory view exposes the WASM heap's buffer.
  const probe = new mj.IntBuffer(1);
  const heap = new Uint8Array((probe.GetView() as Int32Array).buffer);
  probe.delete();
  let end = ptr;
  const limit = Math.min(heap.length, ptr + 4096);
  while (end < limit && heap[end] !== 0) end++;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(heap.subarray(ptr, end));
  // Guard against a layout change: only trust text that looks like a message.
  return /^[\x20-\x7e\s]*$/.test(text) ? text : '';
}
