import { createRequire } from 'node:module';
import type * as CliProgress from 'cli-progress';
import { formatBytes } from './format-bytes.js';

/** A byte progress bar on stderr (bytes, rate, ETA), or a no-op when stderr is not a terminal. */
export function createProgress(enabled: boolean, label: string) {
  if (!enabled) return { update: (_bytes: number, _total: number | undefined) => {}, stop: () => {} };
  // Loaded only when a bar is shown, not by every command that may show one.
  const { SingleBar } = createRequire(import.meta.url)('cli-progress') as typeof CliProgress;
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
