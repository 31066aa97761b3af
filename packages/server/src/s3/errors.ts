/**
 * Every S3 error code this endpoint answers, with S3's status and its default message: the one
 * registry of the S3 front, as ERRORS (stowage-client/protocol) is storage API v1's. docs/s3.md's
 * error table lists exactly these codes and statuses (test/error-registry.test.ts checks it).
 */
export const S3_ERRORS = {
  AccessDenied: { status: 403, message: 'Access Denied' },
  AccessForbidden: { status: 403, message: 'CORSResponse: This CORS request is not allowed.' },
  AuthorizationHeaderMalformed: { status: 400, message: 'The authorization header is malformed' },
  AuthorizationQueryParametersError: { status: 400, message: 'Error parsing the X-Amz-Credential parameter' },
  BadDigest: { status: 400, message: 'The Content-MD5 or checksum you specified did not match what we received.' },
  BadRequest: { status: 400, message: 'Bad Request' },
  BucketAlreadyExists: {
    status: 409,
    message:
      'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
  },
  BucketAlreadyOwnedByYou: { status: 409, message: 'Your previous request to create the named bucket succeeded and you already own it.' },
  BucketNotEmpty: { status: 409, message: 'The bucket you tried to delete is not empty' },
  EntityTooLarge: { status: 400, message: 'Your proposed upload exceeds the maximum allowed object size.' },
  EntityTooSmall: { status: 400, message: 'Your proposed upload is smaller than the minimum allowed object size.' },
  IllegalLocationConstraintException: {
    status: 400,
    message: 'The location constraint is incompatible for the region specific endpoint this request was sent to.',
  },
  IncompleteBody: { status: 400, message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.' },
  InsufficientStorage: { status: 507, message: 'The server is out of storage space; nothing was stored.' },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  InvalidAccessKeyId: { status: 403, message: 'The AWS Access Key Id you provided does not exist in our records.' },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.' },
  InvalidPolicyDocument: { status: 400, message: 'Invalid Policy: the policy document is not what POST Object takes.' },
  InvalidPart: { status: 400, message: 'One or more of the specified parts could not be found or its entity tag did not match.' },
  InvalidPartNumber: { status: 416, message: 'The requested partnumber is not satisfiable' },
  InvalidPartOrder: { status: 400, message: 'The list of parts was not in ascending order.' },
  InvalidRange: { status: 416, message: 'The requested range is not satisfiable' },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidStorageClass: { status: 400, message: 'The storage class you specified is not valid' },
  KeyTooLongError: { status: 400, message: 'Your key is too long' },
  MalformedACLError: { status: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema' },
  MalformedPolicy: { status: 400, message: 'Invalid policy syntax.' },
  MalformedTrailerError: { status: 400, message: 'The request contained trailing data that was not well-formed.' },
  MalformedXML: {
    status: 400,
    message: 'The XML you provided was not well-formed or did not validate against our published schema.',
  },
  MalformedPOSTRequest: { status: 400, message: 'The body of your POST request is not well-formed multipart/form-data.' },
  MaxPostPreDataLengthExceededError: {
    status: 400,
    message: 'Your POST request fields preceding the upload file were too large.',
  },
  MetadataTooLarge: { status: 400, message: 'Your metadata headers exceed the maximum allowed metadata size.' },
  MissingContentLength: { status: 411, message: 'You must provide the Content-Length HTTP header.' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist' },
  NoSuchBucketPolicy: { status: 404, message: 'The bucket policy does not exist' },
  NoSuchCORSConfiguration: { status: 404, message: 'The CORS configuration does not exist' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
  NoSuchLifecycleConfiguration: { status: 404, message: 'The lifecycle configuration does not exist' },
  NoSuchPublicAccessBlockConfiguration: { status: 404, message: 'The public access block configuration was not found' },
  NoSuchUpload: { status: 404, message: 'The specified multipart upload does not exist.' },
  NoSuchVersion: { status: 404, message: 'The specified version does not exist.' },
  NotImplemented: { status: 501, message: 'A header you provided implies functionality that is not implemented.' },
  PreconditionFailed: { status: 412, message: 'At least one of the pre-conditions you specified did not hold' },
  QuotaExceeded: { status: 403, message: "The write would take the tenant's stored bytes past its quota; nothing was stored" },
  RequestTimeout: {
    status: 400,
    message: 'Your socket connection to the server was not read from or written to within the timeout period.',
  },
  RequestTimeTooSkewed: { status: 403, message: 'The difference between the request time and the current time is too large.' },
  ServiceUnavailable: { status: 503, message: 'Please reduce your request rate.' },
  SignatureDoesNotMatch: {
    status: 403,
    message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  },
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  TooManyBuckets: { status: 400, message: 'You have attempted to create more buckets than allowed' },
  UnresolvableGrantByEmailAddress: { status: 400, message: 'The e-mail address you provided does not match any account on record.' },
  XAmzContentSHA256Mismatch: { status: 400, message: "The provided 'x-amz-content-sha256' header does not match what was computed." },
} as const satisfies Record<string, { status: number; message: string }>;

export type S3ErrorCode = keyof typeof S3_ERRORS;

export function isS3ErrorCode(code: string): code is S3ErrorCode {
  return Object.hasOwn(S3_ERRORS, code);
}

/** An S3 error: a code of the registry (which gives its status) and a message, answered as S3's XML error body. */
export class S3Error extends Error {
  readonly status: number;

  constructor(
    readonly code: S3ErrorCode,
    message: string = S3_ERRORS[code].message,
    readonly headers: Record<string, string> = {},
    /** Elements S3 adds to this error's `<Error>` document after `<Message>` (e.g. `<Region>`). */
    readonly details: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'S3Error';
    this.status = S3_ERRORS[code].status;
  }
}

/** The S3 errors raised in more than one place, with the messages S3 gives them. */
export const s3Errors = {
  accessDenied: (message?: string) => new S3Error('AccessDenied', message),
  signatureMismatch: () => new S3Error('SignatureDoesNotMatch'),
  invalidAccessKeyId: () => new S3Error('InvalidAccessKeyId'),
  skewed: () => new S3Error('RequestTimeTooSkewed'),
  expired: () => new S3Error('AccessDenied', 'Request has expired'),
  headersNotSigned: (names: readonly string[]) =>
    new S3Error(
      'AccessDenied',
      'There were headers present in the request which were not signed',
      {},
      { HeadersNotSigned: names.join(', ') },
    ),
  /** A credential scope this endpoint does not take: in the Authorization header, or a presigned URL's X-Amz-Credential. */
  badScope: (presigned: boolean, problem: string, details: Record<string, string> = {}) =>
    presigned
      ? new S3Error('AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter; ${problem}`, {}, details)
      : new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${problem}`, {}, details),
  noSuchBucket: (bucket: string) => new S3Error('NoSuchBucket', `The specified bucket does not exist: ${bucket}`),
  noSuchKey: () => new S3Error('NoSuchKey'),
  noSuchUpload: () => new S3Error('NoSuchUpload'),
  notImplemented: (what: string) => new S3Error('NotImplemented', `${what} is not implemented by Stowage's S3 API (docs/s3.md)`),
  invalidArgument: (message: string) => new S3Error('InvalidArgument', message),
  invalidRequest: (message: string) => new S3Error('InvalidRequest', message),
  badDigest: (message?: string) => new S3Error('BadDigest', message),
  contentSha256Mismatch: () => new S3Error('XAmzContentSHA256Mismatch'),
  preconditionFailed: () => new S3Error('PreconditionFailed'),
  malformedXml: () => new S3Error('MalformedXML'),
  malformedAcl: (message?: string) => new S3Error('MalformedACLError', message),
  malformedPolicy: (message: string) => new S3Error('MalformedPolicy', message),
  invalidRange: (size: number) => new S3Error('InvalidRange', undefined, { 'content-range': `bytes */${size}` }),
  entityTooSmall: () => new S3Error('EntityTooSmall'),
  invalidPart: () => new S3Error('InvalidPart'),
  invalidPartNumber: () => new S3Error('InvalidPartNumber'),
  invalidPartOrder: () => new S3Error('InvalidPartOrder'),
  incompleteBody: () => new S3Error('IncompleteBody'),
  missingContentLength: () => new S3Error('MissingContentLength'),
};
