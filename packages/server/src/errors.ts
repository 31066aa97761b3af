import { ERRORS, type ErrorBody, type ErrorCode } from 'stowage-client/protocol';

export { ERRORS, type ErrorCode };

/**
 * An error the server reports to its caller: a stable code from the one registry in the
 * protocol module, the HTTP status that code maps to, and a message.
 */
export class StowageError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly headers?: Record<string, string>,
  ) {
    super(detail ?? ERRORS[code].message);
    this.name = 'StowageError';
    this.status = ERRORS[code].status;
  }

  toBody(requestId: string): ErrorBody {
    return { code: this.code, message: this.message, requestId };
  }
}

/** Shorthand: `throw fail('NoSuchKey')`. */
export function fail(code: ErrorCode, detail?: string, headers?: Record<string, string>): StowageError {
  return new StowageError(code, detail, headers);
}

/**
 * `fail` for a refusal of load shedding (429 RateLimited, 503 Overloaded): the same error without
 * a stack trace. Nobody reads it (such refusals are logged without one, http/error-log.ts), and
 * capturing it through Fastify's hook chain was the largest cost of a refusal of its own (7% of
 * the server's CPU profile while one user flooded it).
 */
export function refuse(code: 'RateLimited' | 'Overloaded', detail: string, headers: Record<string, string>): StowageError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new StowageError(code, detail, headers);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Whether `error` says the disk (or the index on it) is full, whichever engine noticed. */
export function isDiskFullError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

export function isStowageError(error: unknown): error is StowageError {
  return error instanceof StowageError;
}
