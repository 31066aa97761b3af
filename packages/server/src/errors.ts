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

export function isStowageError(error: unknown): error is StowageError {
  return error instanceof StowageError;
}
