import { loadConfig } from '../config/load-config.js';
import { modelLabel } from '../models/continuous-model.js';
import { unsupportedNotice } from '../models/rigid-body/rigid-body-dynamics.js';

/**
 * `mpcd validate <config>...`: loads each file; errors are thrown as MpcdError with every problem
 * listed. A rigid-body model's file is compiled, and what it holds that the model does not
 * represent is said (`not_represented`), as `mpcd run` says it at start-up.
 */
export async function validateCommand(paths: readonly string[], json: boolean): Promise<number> {
  const results = [];
  for (const p of paths) {
    const loaded = await loadConfig(p);
    const m = loaded.config.model;
    const notice = m.kind === 'rigid_body' ? unsupportedNotice(m.tree) : undefined;
    results.push({ path: loaded.path, name: loaded.config.name ?? null, planner: loaded.config.planner.kind, robot: modelLabel(m), not_represented: notice ?? null });
  }
  if (json) process.stdout.write(`${JSON.stringify({ valid: results })}\n`);
  else for (const r of results) process.stdout.write(`${r.path}: valid (${r.robot}, ${r.planner})\n${r.not_represented === null ? '' : `  note: ${r.not_represented}\n`}`);
  return 0;
}
