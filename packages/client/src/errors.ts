import { ERRORS, type ErrorCode } from './protocol.js';

const BRAND = Symbol.for('stowage-client.error');

export interface ErrorFields {
  status?: number | undefined;
  code?: string | undefined;
  requestId?: string | undefined;
  retryAfter?: number | undefined;
  cause?: unknown;
}

/**
 * Base of every error the client throws. `instanceof` works across duplicate installs of the
 * package: classes brand themselves with `Symbol.for` and check the brand.
 *
 * @example
 * try { await storage.get('missing') } catch (e) { if (e instanceof NotFoundError) ... }
 */
export class StorageError extends Error {
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** Stable error code from the server's registry (e.g. `NoSuchKey`), when it sent one. */
  readonly code: string | undefined;
  /** The server's request id, for its logs. */
  readonly requestId: string | undefined;
  /** Seconds the server asked to wait before trying again (`Retry-After` on 429 and 503), when it said. */
  readonly retryAfter: number | undefined;

  constructor(message: string, fields: ErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = new.target.name;
    this.status = fields.status;
    this.code = fields.code;
    this.requestId = fields.requestId;
    this.retryAfter = fields.retryAfter;
    Object.defineProperty(this, BRAND, { value: brandsOf(new.target) });
  }

  // `this` is the class on the right of `instanceof`, so each subclass checks its own brand.
  static override [Symbol.hasInstance](instance: unknown): boolean {
    const brands = (instance as Record<symbol, unknown> | null)?.[BRAND];
    // biome-ignore lint/complexity/noThisInStatic: polymorphic on purpose
    return Array.isArray(brands) ? brands.includes(this.name) : Function.prototype[Symbol.hasInstance].call(this, instance);
  }
}

function brandsOf(errorClass: unknown): string[] {
  const names: string[] = [];
  for (let c = errorClass as { name: string } | null; c && c !== Error; c = Object.getPrototypeOf(c)) names.push(c.name);
  return names;
}

/** 404: no object at the key (or it expired), or (`code` `NoSuchBucket`) no bucket of that name. */
export class NotFoundError extends StorageError {}
/** 400/422: the request was invalid (bad key, bad storage type, bad bucket name, too many buckets, …). */
export class BadRequestError extends StorageError {}
/**
 * 401, or no credentials could be found: see the message for what is missing. An anonymous
 * client (`{ anonymous: true }`) gets it (`MissingToken`) for what is not public.
 */
export class AuthError extends StorageError {}
/**
 * 403: not allowed (e.g. a tampered or expired signed URL, or `AccessDenied`: nothing grants the
 * caller that in the bucket, or a bucket policy denies it).
 */
export class ForbiddenError extends StorageError {}
/**
 * 403 `QuotaExceeded`: the write would take the user's stored bytes past their quota; nothing
 * was stored. Not retried: it fails the same way until something is deleted.
 *
 * @example
 * try { await storage.set(key, bytes) } catch (e) { if (e instanceof QuotaExceededError) await pruneOldResults() }
 */
export class QuotaExceededError extends ForbiddenError {}
/** 409: conflicting state (`DestinationExists`, `BucketAlreadyExists`, `BucketAlreadyOwnedByYou`, `BucketNotEmpty`, …). */
export class ConflictError extends StorageError {}
/** 412: an If-Match / If-None-Match condition was not met. */
export class PreconditionFailedError extends StorageError {}
/** 413: the body is larger than the server accepts. */
export class PayloadTooLargeError extends StorageError {}
/**
 * 429 (`RateLimited`): too many requests; `retryAfter` says how long the server asked to wait,
 * in seconds. With a Retry-After the call was retried after that wait; this error means the
 * retries ran out.
 */
export class RateLimitError extends StorageError {}
/**
 * 5xx, or any other unexpected status. A 503 (`Overloaded`, `ServiceUnavailable`) carries the
 * server's `retryAfter` and was retried before it reached you.
 */
export class ServerError extends StorageError {}
/**
 * 507 `InsufficientStorage`: the server is out of storage space (its disk, or its S3 store is full);
 * nothing was stored. Deletes still work. Not retried: waiting a few seconds does not free space.
 *
 * @example
 * try { await storage.setFile(key, path) } catch (e) { if (e instanceof InsufficientStorageError) alertOperator(e.requestId) }
 */
export class InsufficientStorageError extends ServerError {}
/**
 * Connecting, or waiting for the next byte, took longer than the configured timeout; or (408
 * `RequestTimeout`, with `status`) the server gave up on a request body that stopped arriving.
 */
export class TimeoutError extends StorageError {}
/** The connection failed or broke (refused, reset, closed early, short body). */
export class ConnectionError extends StorageError {}

const BY_CODE: Record<string, typeof StorageError> = {
  NoSuchKey: NotFoundError,
  NoSuchVersion: NotFoundError,
  MissingToken: AuthError,
  InvalidToken: AuthError,
  InvalidUser: AuthError,
  TokenExpired: AuthError,
  InvalidCredentials: AuthError,
  InvalidSignature: ForbiddenError,
  UrlExpired: ForbiddenError,
  CorsForbidden: ForbiddenError,
  NoSuchBucket: NotFoundError,
  AccessDenied: ForbiddenError,
  BucketAlreadyExists: ConflictError,
  BucketAlreadyOwnedByYou: ConflictError,
  BucketNotEmpty: ConflictError,
  InvalidBucketName: BadRequestError,
  TooManyBuckets: BadRequestError,
  PreconditionFailed: PreconditionFailedError,
  EntityTooLarge: PayloadTooLargeError,
  QuotaExceeded: QuotaExceededError,
  RateLimited: RateLimitError,
  RequestTimeout: TimeoutError,
  InsufficientStorage: InsufficientStorageError,
};

/** Maps a response to an error class: by the body's `code` first, then by status; never by message. */
export function errorFromResponse(
  status: number,
  body: unknown,
  headers: { retryAfter?: number | undefined; requestId?: string | undefined; errorCode?: string | undefined } = {},
): StorageError {
  const fields = typeof body === 'object' && body !== null ? (body as { code?: unknown; message?: unknown; requestId?: unknown }) : {};
  // A HEAD answer has no body: its code comes in X-Stowage-Error-Code.
  const code = typeof fields.code === 'string' ? fields.code : headers.errorCode;
  const known = code !== undefined && Object.hasOwn(ERRORS, code) ? ERRORS[code as ErrorCode].message : undefined;
  const message = typeof fields.message === 'string' && fields.message !== '' ? fields.message : (known ?? `HTTP ${status}`);
  const requestId = typeof fields.requestId === 'string' ? fields.requestId : headers.requestId;
  const common = { status, code, requestId, retryAfter: headers.retryAfter };
  if (status === 429) return new RateLimitError(message, common);
  const ErrorClass = (code && BY_CODE[code]) || classForStatus(status);
  return new ErrorClass(message, common);
}

function classForStatus(status: number): typeof StorageError {
  if (status === 400 || status === 422) return BadRequestError;
  if (status === 401) return AuthError;
  if (status === 403) return ForbiddenError;
  if (status === 404) return NotFoundError;
  if (status === 408) return TimeoutError;
  if (status === 409) return ConflictError;
  if (status === 412) return PreconditionFailedError;
  if (status === 413) return PayloadTooLargeError;
  if (status === 507) return InsufficientStorageError;
  return ServerError;
}
