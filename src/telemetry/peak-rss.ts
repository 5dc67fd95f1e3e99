import { readFileSync } from 'node:fs';

/**
 * Peak resident set size of this process, MB. On Linux from /proc/self/status (VmHWM), because
 * getrusage's maxrss survives execve and so reports the launcher's peak (npm's, say) when that
 * was larger; elsewhere from getrusage.
 */
export function peakRssMb(): number {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match?.[1] !== undefined) return Number(match[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}
