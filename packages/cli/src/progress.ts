import { SingleBar } from 'cli-progress';

/** A byte progress bar on stderr (bytes, rate, ETA), or a no-op when stderr is not a terminal. */
export function createProgress(enabled: boolean, label: string) {
  if (!enabled) return { update: (_bytes: number, _total: number | undefined) => {}, stop: () => {} };
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {done}/{all} | {rate}/s | ETA {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
  });
  const started = Date.now();
  let running = false;
  return {
    update(bytes: number, total: number | undefined) {
      const payload = {
        done: formatBytes(bytes),
        all: total === undefined ? '?' : formatBytes(total),
        rate: formatBytes(bytes / Math.max(0.001, (Date.now() - started) / 1000)),
      };
      if (!running) {
        bar.start(total ?? 0, bytes, payload);
        running = true;
      }
      if (total !== undefined) bar.setTotal(total);
      bar.update(bytes, payload);
    },
    stop() {
      if (running) bar.stop();
    },
  };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}
