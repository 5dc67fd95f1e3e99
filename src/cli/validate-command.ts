import { loadConfig } from '../config/load-config.js';

/** `mpcd validate <config>...`: loads each file; errors are thrown as MpcdError with every problem listed. */
export function validateCommand(paths: readonly string[], json: boolean): number {
  const results = paths.map((p) => {
    const loaded = loadConfig(p);
    return { path: loaded.path, name: loaded.config.name ?? null, planner: loaded.config.planner.kind, robot: loaded.config.model.robot };
  });
  if (json) process.stdout.write(`${JSON.stringify({ valid: results })}\n`);
  else for (const r of results) process.stdout.write(`${r.path}: valid (${r.robot}, ${r.planner})\n`);
  return 0;
}
