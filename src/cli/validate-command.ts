import { loadConfig } from '../config/load-config.js';
import { modelLabel } from '../models/continuous-model.js';

/** `mpcd validate <config>...`: loads each file; errors are thrown as MpcdError with every problem listed. */
export async function validateCommand(paths: readonly string[], json: boolean): Promise<number> {
  const results = [];
  for (const p of paths) {
    const loaded = await loadConfig(p);
    results.push({ path: loaded.path, name: loaded.config.name ?? null, planner: loaded.config.planner.kind, robot: modelLabel(loaded.config.model) });
  }
  if (json) process.stdout.write(`${JSON.stringify({ valid: results })}\n`);
  else for (const r of results) process.stdout.write(`${r.path}: valid (${r.robot}, ${r.planner})\n`);
  return 0;
}
