import { formatBytes } from './format.js';

/** Shorter than this since the start, a speed says little: none is shown. */
const SETTLE_MS = 500;

/** Speed and time left of `sent` of `size` bytes sent since `startedAt` (ms), or undefined while too early to say. */
export function progressRate(sent: number, size: number, startedAt: number | undefined, now: number): string | undefined {
  if (startedAt === undefined || sent <= 0) return undefined;
  const elapsed = now - startedAt;
  if (elapsed < SETTLE_MS) return undefined;
  const perSecond = (sent * 1000) / elapsed;
  return `${formatBytes(Math.round(perSecond))}/s, ${formatDuration(Math.max(0, size - sent) / perSecond)} left`;
}

/** 4.2 → "5 s", 130 → "3 min", 4000 → "1 h 7 min". */
export function formatDuration(seconds: number): string {
  const rounded = Math.ceil(seconds);
  if (rounded < 60) return `${rounded} s`;
  const minutes = Math.ceil(rounded / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
