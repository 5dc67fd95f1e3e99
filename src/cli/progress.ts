import cliProgress from 'cli-progress';

/** A progress bar on stderr when it is a terminal; silent otherwise (CI, pipes, --json runs). */
export interface Progress {
  update(value: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

export function progressBar(total: number, label: string): Progress {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} {info}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { info: '' });
  return {
    update: (value, payload) => bar.update(value, payload),
    stop: () => bar.stop(),
  };
}
