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

/** A query parameter given at most once; 400 InvalidArgument when it is repeated. */
export function singleQueryValue(raw: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(raw)) throw fail('InvalidArgument', `"${name}" appears more than once`);
  return raw;
}

/** A `true`/`false` query parameter (absent: false). */
export function booleanQueryValue(raw: string | string[] | undefined, name: string): boolean {
  const value = singleQueryValue(raw, name);
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1' || value === '') return true;
  throw fail('InvalidArgument', `"${name}" must be true or false`);
}
