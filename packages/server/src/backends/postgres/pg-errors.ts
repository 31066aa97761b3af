import { fail, isStowageError, type StowageError } from '../../errors.js';

/** SQLSTATEs that say the database cannot serve right now, rather than that the query is wrong. */
const UNAVAILABLE_STATES = new Set([
  '57014', // query_canceled: statement_timeout
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, in recovery)
  '55P03', // lock_not_available: lock_timeout
  '25P03', // idle_in_transaction_session_timeout
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
]);

/** Socket errors: the server is down, unreachable, or went away mid-conversation. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** What node-postgres says when a connection cannot be had, broke, or a query got no answer in time. */
const DRIVER_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /connection terminated/i,
  /query read timeout/i,
  /not queryable/i,
  /connection (?:is )?closed/i,
];

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether `error` means the index database did not answer (down, unreachable, too slow). */
export function isUnavailableError(error: unknown): boolean {
  if (isStowageError(error)) return false;
  const code = codeOf(error);
  if (code !== undefined && (UNAVAILABLE_STATES.has(code) || code.startsWith('08') || NETWORK_CODES.has(code))) return true;
  if (error instanceof AggregateError) return error.errors.some(isUnavailableError);
  const message = messageOf(error);
  return DRIVER_MESSAGES.some((pattern) => pattern.test(message));
}

/**
 * Whether the connection that raised `error` can no longer be trusted: it failed below SQL (a
 * socket error, a client-side read timeout while the query may still run). A database error
 * (one with a SQLSTATE) leaves the connection usable.
 */
export function isConnectionBroken(error: unknown): boolean {
  if (isStowageError(error)) return false;
  const code = codeOf(error);
  const fromServer = typeof (error as { severity?: unknown } | undefined)?.severity === 'string';
  if (fromServer && code !== undefined) return code.startsWith('08') || code.startsWith('57P');
  return true;
}

/** A deadlock or serialization failure: the transaction was rolled back whole and may simply run again. */
export function isRetryableConflict(error: unknown): boolean {
  const code = codeOf(error);
  return code === '40P01' || code === '40001';
}

/** 503 StorageUnavailable with Retry-After, so callers retry instead of waiting on a dead database. */
export function storageUnavailable(error: unknown): StowageError {
  return fail('StorageUnavailable', `The index database does not answer: ${describeCause(error)}`, { 'retry-after': '2' });
}

/** `error` as the caller should see it: StorageUnavailable when the database did not answer, else unchanged. */
export function asIndexError(error: unknown): unknown {
  return isUnavailableError(error) ? storageUnavailable(error) : error;
}

/** A short, password-free account of what went wrong. */
export function describeCause(error: unknown, password?: string): string {
  let text: string;
  if (error instanceof AggregateError && error.errors.length > 0) text = error.errors.map((inner) => messageOf(inner)).join('; ');
  else text = messageOf(error) || codeOf(error) || 'unknown error';
  if (password) text = text.split(password).join('***');
  return text;
}
