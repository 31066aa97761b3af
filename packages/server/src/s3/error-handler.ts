import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { afterSmallBody, closeUnlessKept } from '../http/connection-reuse.js';
import { toStowageError } from '../http/error-handler.js';
import { logErrorAnswer } from '../http/error-log.js';
import { RuleError } from '../storage/rule-error.js';
import { isS3ErrorCode, S3Error, type S3ErrorCode, s3Errors } from './errors.js';
import { signedUrlOf } from './root-listener.js';
import { errorDocument } from './xml.js';

/** Storage API error codes and the S3 codes that mean the same (whose registry gives the status). */
const S3_CODES: Record<string, S3ErrorCode> = {
  NoSuchKey: 'NoSuchKey',
  NoSuchVersion: 'NoSuchVersion',
  PreconditionFailed: 'PreconditionFailed',
  EntityTooLarge: 'EntityTooLarge',
  QuotaExceeded: 'QuotaExceeded',
  InvalidKey: 'KeyTooLongError',
  InvalidMetadata: 'InvalidArgument',
  InvalidArgument: 'InvalidArgument',
  InvalidContentType: 'InvalidArgument',
  ChecksumMismatch: 'XAmzContentSHA256Mismatch',
  RequestTimeout: 'RequestTimeout',
  RequestAborted: 'IncompleteBody',
  IncompleteBody: 'IncompleteBody',
  RateLimited: 'SlowDown',
  Overloaded: 'SlowDown',
  InsufficientStorage: 'InsufficientStorage',
  StorageUnavailable: 'ServiceUnavailable',
  ServiceUnavailable: 'ServiceUnavailable',
  UnsupportedTransferEncoding: 'NotImplemented',
  DestinationExists: 'PreconditionFailed',
  NoSuchUpload: 'NoSuchUpload',
  RangeNotSatisfiable: 'InvalidRange',
  InvalidRange: 'InvalidArgument',
  InvalidPageToken: 'InvalidArgument',
  NoSuchBucket: 'NoSuchBucket',
  BucketAlreadyExists: 'BucketAlreadyExists',
  BucketAlreadyOwnedByYou: 'BucketAlreadyOwnedByYou',
  BucketNotEmpty: 'BucketNotEmpty',
  InvalidBucketName: 'InvalidBucketName',
  TooManyBuckets: 'TooManyBuckets',
  AccessDenied: 'AccessDenied',
  // An anonymous request for what is not public: S3 answers 403 AccessDenied.
  MissingToken: 'AccessDenied',
  MalformedPolicy: 'MalformedPolicy',
  InvalidStorageType: 'NoSuchBucket',
};

/** Every error of the S3 scope as S3's XML error body, with S3's code and status. */
export function handleS3Error(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const s3 = toS3Error(error);
  logErrorAnswer(request.log, error, s3, 'S3 request failed');
  afterSmallBody(request.raw, () => {
    closeUnlessKept(request.raw, reply);
    reply.headers(s3.headers);
    const resource = signedUrlOf(request.raw).split('?')[0] ?? '';
    // A HEAD answer has no body: the status and x-amz-error-code say it all.
    if (request.method === 'HEAD') reply.header('x-amz-error-code', s3.code).code(s3.status).send();
    else
      reply
        .code(s3.status)
        .type('application/xml')
        .send(errorDocument(s3, resource, request.id));
  });
}

/** Any error as the S3 error it is answered with. */
export function toS3Error(error: FastifyError | Error): S3Error {
  if (error instanceof S3Error) return error;
  // The domain's S3 rules (multipart uploads, checksums) raise S3's own code, status and message.
  if (error instanceof RuleError)
    return new S3Error(isS3ErrorCode(error.code) ? error.code : 'InternalError', error.message, error.headers);
  return fromStowage(error);
}

function fromStowage(error: FastifyError | Error): S3Error {
  const mapped = toStowageError(error);
  if (mapped.code === 'NoSuchKey') return s3Errors.noSuchKey();
  // Storage API v1's challenge (WWW-Authenticate: Bearer) means nothing to an S3 client.
  if (mapped.code === 'MissingToken') return s3Errors.accessDenied('This bucket or object is not public: sign the request with an API key');
  const code = S3_CODES[mapped.code] ?? (mapped.status >= 500 ? 'InternalError' : 'InvalidRequest');
  return new S3Error(code, mapped.message, mapped.headers ?? {});
}
