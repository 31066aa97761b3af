import { fail } from '../errors.js';

/** Parses an optional `expires_in` (seconds) query parameter into ms, within 1 s..maxMs. */
export function parseExpiresIn(raw: string | undefined, defaultMs: number, maxMs: number): number {
  if (raw === undefined || raw === '') return defaultMs;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds * 1000 > maxMs) {
    throw fail('InvalidArgument', `expires_in must be a whole number of seconds from 1 to ${maxMs / 1000}`);
  }
  return seconds * 1000;
}
