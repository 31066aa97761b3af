import { createRequire } from 'node:module';
import type * as CliProgress from 'cli-progress';
import { formatBytes } from './format-bytes.js';
import { countOf } from './format-count.js';

/** --progress and --quiet of the transfer commands. */
export interface ProgressFlags {
  progress?: boolean;
  quiet?: boolean;
}

/** Whether a transfer shows a bar and a summary: on a terminal, unless --quiet; anywhere with --progress. */
export function progressWanted(flags: ProgressFlags, stderrIsTerminal: boolean): boolean {
  if (flags.progress) return true;
  return !flags.quiet && stderrIsTerminal;
}

/** What every transfer's progress does: the bar as bytes move, then one summary line, or nothing at all. */
export interface TransferProgress {
  /** Bytes of the transfer so far (of one file, for a batch: see {@link BatchProgress.file}). */
  update(bytes: number, total: number | undefined): void;
  /** The transfer is done: the bar goes, and the summary line is printed. */
  finish(): void;
  /** Stops the bar without a summary (after a failure); nothing once finished. */
  stop(): void;
}

export interface BatchProgress {
  /** The progress callback of one file of the batch; `done` when it is through. */
  file(): { update: (bytes: number, total: number | undefined) => void; done: () => void };
  finish(): void;
  stop(): void;
}

const SILENT: TransferProgress = { update: () => {}, finish: () => {}, stop: () => {} };

function loadBar(format: string): CliProgress.SingleBar {
  // Loaded only when a bar is shown, not by every command that may show one.
  const { SingleBar } = createRequire(import.meta.url)('cli-progress') as typeof CliProgress;
  // Off a terminal (--progress), a line every 2 s instead of a redrawn bar.
  return new SingleBar({ format, stream: process.stderr, hideCursor: true, noTTYOutput: true, notTTYSchedule: 2000 });
}

function summary(label: string, what: string, bytes: number, started: number): string {
  const seconds = Math.max(0.001, (Date.now() - started) / 1000);
  return `${label}: ${what} in ${seconds.toFixed(1)} s (${formatBytes(bytes / seconds)}/s)\n`;
}

/** A byte progress bar on stderr (bytes, rate, ETA) and a summary line, or nothing when not `enabled`. */
export function createProgress(enabled: boolean, label: string): TransferProgress {
  if (!enabled) return SILENT;
  let bar: CliProgress.SingleBar | undefined;
  const started = Date.now();
  let bytesSoFar = 0;
  let over = false;
  return {
    update(bytes, total) {
      if (over) return;
      bytesSoFar = bytes;
      const payload = {
        done: formatBytes(bytes),
        all: total === undefined ? '?' : formatBytes(total),
        rate: formatBytes(bytes / Math.max(0.001, (Date.now() - started) / 1000)),
      };
      if (!bar) {
        // A stream of unknown length (stdin, a pipe) has no percentage or ETA to show.
        bar = loadBar(
          total === undefined
            ? `${label} {done} | {rate}/s`
            : `${label} [{bar}] {percentage}% | {done}/{all} | {rate}/s | ETA {eta_formatted}`,
        );
        bar.start(total ?? 0, bytes, payload);
      }
      if (total !== undefined) bar.setTotal(total);
      bar.update(bytes, payload);
    },
    finish() {
      if (over) return;
      bar?.stop();
      over = true;
      process.stderr.write(summary(label, formatBytes(bytesSoFar), bytesSoFar, started));
    },
    stop() {
      if (!over) bar?.stop();
      over = true;
    },
  };
}

/** A bar over the files of a batch (files done, bytes moved, rate, ETA by files) and a summary line. */
export function createBatchProgress(enabled: boolean, label: string, files: number): BatchProgress {
  if (!enabled) return { file: () => ({ update: () => {}, done: () => {} }), finish: () => {}, stop: () => {} };
  const bar = loadBar(`${label} [{bar}] {value}/{total} files | {moved} | {rate}/s | ETA {eta_formatted}`);
  const started = Date.now();
  let moved = 0;
  let done = 0;
  let state: 'running' | 'over' = 'running';
  const payload = () => ({
    moved: formatBytes(moved),
    rate: formatBytes(moved / Math.max(0.001, (Date.now() - started) / 1000)),
  });
  bar.start(files, 0, payload());
  return {
    file() {
      let counted = 0;
      return {
        update(bytes) {
          moved += bytes - counted;
          counted = bytes;
          if (state === 'running') bar.update(done, payload());
        },
        done() {
          done++;
          if (state === 'running') bar.update(done, payload());
        },
      };
    },
    finish() {
      if (state === 'over') return;
      bar.stop();
      state = 'over';
      process.stderr.write(summary(label, `${countOf(done, 'file')}, ${formatBytes(moved)}`, moved, started));
    },
    stop() {
      if (state === 'running') bar.stop();
      state = 'over';
    },
  };
}
