import type { FastifyBaseLogger } from 'fastify';

/** An error answer as sent: its status and the code in its body (storage API v1's or S3's). */
export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
}

/**
 * Refusals of a server protecting itself under load, by design and counted in /metrics: a line
 * each would add a log write to every refused request exactly while the server is overloaded.
 */
const LOAD_SHEDDING = new Set(['RateLimited', 'Overloaded', 'SlowDown']);

/**
 * Logs an error answer at the level of what it says about the server, the one rule of both
 * error handlers (v1 and S3). A fault of the server or of what it depends on (500, 503 from an
 * unreachable index or store, 507) is logged at error with the error and its stack, for the
 * operator to act on. A client's mistake (4xx) or a feature Stowage does not have (501) says
 * nothing is wrong with the server: one line at info, without a stack, so that the real faults
 * stand out. Load shedding is logged at debug. `failed` is the message of a fault's line.
 */
export function logErrorAnswer(log: FastifyBaseLogger, error: Error, answer: ErrorAnswer, failed = 'request failed'): void {
  const { status, code, message } = answer;
  if (LOAD_SHEDDING.has(code)) log.debug({ status, code, detail: message }, 'request refused');
  else if (status < 500 || status === 501) log.info({ status, code, detail: message }, 'request refused');
  else log.error({ err: error, status, code }, failed);
}
