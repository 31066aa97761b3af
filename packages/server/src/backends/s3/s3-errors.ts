import { fail, isStowageError } from '../../errors.js';

interface SdkError {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly cause?: unknown;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);
const UNAVAILABLE_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'SlowDown',
  'InternalError',
  'ThrottlingException',
  'Throttling',
]);
/**
 * Answers of a store out of room. 507 is how stores say it (MinIO's XMinioStorageFull, others'
 * InsufficientStorage or InsufficientCapacity); Ceph RGW answers 403 QuotaExceeded past a user's
 * or a bucket's quota (its error table has no entry for a full cluster, whose writes wait instead).
 */
const FULL_NAMES = new Set(['QuotaExceeded', 'InsufficientStorage', 'InsufficientCapacity', 'XMinioStorageFull']);
const CREDENTIAL_NAMES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'Forbidden',
  'InvalidToken',
  'ExpiredToken',
]);

function sdk(error: unknown): SdkError {
  return (error ?? {}) as SdkError;
}

export function statusOf(error: unknown): number | undefined {
  return sdk(error).$metadata?.httpStatusCode;
}

/** A GET or HEAD of a key that is not there (not a missing bucket). */
export function isNoSuchKey(error: unknown): boolean {
  const { name } = sdk(error);
  if (name === 'NoSuchKey' || name === 'NotFound') return true;
  return statusOf(error) === 404 && name !== 'NoSuchBucket' && name !== 'NoSuchUpload';
}

export function isNoSuchUpload(error: unknown): boolean {
  return sdk(error).name === 'NoSuchUpload';
}

export function isNoSuchBucket(error: unknown): boolean {
  const { name } = sdk(error);
  return name === 'NoSuchBucket' || name === 'NotFound' || statusOf(error) === 404;
}

export function isCredentialError(error: unknown): boolean {
  return !isStoreFull(error) && (CREDENTIAL_NAMES.has(sdk(error).name ?? '') || statusOf(error) === 403);
}

/** The store answered that it has no room for what was sent. */
export function isStoreFull(error: unknown): boolean {
  return FULL_NAMES.has(sdk(error).name ?? '') || statusOf(error) === 507;
}

/** The caller's signal (or ours, for a body that failed) stopped the request. */
export function isAbortError(error: unknown): boolean {
  return sdk(error).name === 'AbortError';
}

/** The store did not answer, or answered that it cannot serve now: worth a retry later. */
export function isUnavailable(error: unknown): boolean {
  if (isStowageError(error)) return error.code === 'StorageUnavailable';
  const { name, code } = sdk(error);
  if (UNAVAILABLE_NAMES.has(name ?? '') || NETWORK_CODES.has(code ?? '')) return true;
  const status = statusOf(error);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  // Node wraps a refused connection to a name with several addresses in an AggregateError.
  if (error instanceof AggregateError) return error.errors.some(isUnavailable);
  const cause = sdk(error).cause;
  return cause !== undefined && cause !== error && !isAbortError(error) && isUnavailable(cause);
}

/** One line on an SDK error: its name, HTTP status and message. */
export function describe(error: unknown): string {
  const { name, message, code } = sdk(error);
  const status = statusOf(error);
  const label = [name && name !== 'Error' ? name : code, status !== undefined ? `HTTP ${status}` : undefined].filter(Boolean).join(', ');
  const text = message && message !== name && message !== 'UnknownError' ? message : '';
  if (error instanceof AggregateError && !text) return error.errors.map(describe).join('; ');
  return [label, text].filter(Boolean).join(': ') || String(error);
}

/**
 * A store that is full becomes 507 InsufficientStorage, as a full disk is; one that does not
 * answer, 503 StorageUnavailable (with Retry-After); anything else stays as it is.
 */
export function mapStoreError(error: unknown): unknown {
  if (isStowageError(error)) return error;
  if (isStoreFull(error)) return fail('InsufficientStorage', `The blob store is full: ${describe(error)}; nothing was stored`);
  if (!isUnavailable(error)) return error;
  return fail('StorageUnavailable', `The blob store does not answer: ${describe(error)}`, { 'retry-after': '2' });
}

/** The readable reason `open` gives when the first HeadBucket fails. */
export function openError(error: unknown, options: { bucket: string; where: string; region: string; chain: boolean }): Error {
  const { bucket, where, region, chain } = options;
  const detail = describe(error);
  const name = sdk(error).name;
  if (name === 'CredentialsProviderError') {
    return new Error(
      `no S3 credentials for bucket ${bucket} at ${where}: ${detail} (set an access key and secret, or configure the AWS credential chain)`,
    );
  }
  if (isUnavailable(error)) return new Error(`cannot reach S3 at ${where}: ${detail}`);
  if (isCredentialError(error)) {
    const whose = chain ? 'the credentials from the AWS credential chain' : 'the credentials';
    return new Error(
      `S3 refused ${whose} for bucket ${bucket} at ${where} (${detail}): check the access key, the secret and the bucket's permissions`,
    );
  }
  if (isNoSuchBucket(error)) return new Error(`bucket ${bucket} does not exist at ${where}`);
  const status = statusOf(error);
  if (status === 301 || status === 400) {
    return new Error(`S3 at ${where} refused bucket ${bucket} (${detail}): check the region (${region}) and the endpoint`);
  }
  return new Error(`S3 at ${where} refused bucket ${bucket}: ${detail}`);
}

/** CompleteMultipartUpload refused the part list (on Ceph RGW: it does not name every part held). */
export function isInvalidPart(error: unknown): boolean {
  return sdk(error).name === 'InvalidPart';
}
