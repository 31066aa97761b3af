/** An S3 error: its code, HTTP status and message, answered as S3's XML error body. */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Elements S3 adds to this error's `<Error>` document after `<Message>` (e.g. `<Region>`). */
    readonly details: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

/** The S3 errors this endpoint answers, with S3's statuses. */
export const s3Errors = {
  accessDenied: (message = 'Access Denied') => new S3Error('AccessDenied', 403, message),
  signatureMismatch: () =>
    new S3Error(
      'SignatureDoesNotMatch',
      403,
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    ),
  invalidAccessKeyId: () => new S3Error('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.'),
  skewed: () => new S3Error('RequestTimeTooSkewed', 403, 'The difference between the request time and the current time is too large.'),
  expired: () => new S3Error('AccessDenied', 403, 'Request has expired'),
  headersNotSigned: (names: readonly string[]) =>
    new S3Error(
      'AccessDenied',
      403,
      'There were headers present in the request which were not signed',
      {},
      {
        HeadersNotSigned: names.join(', '),
      },
    ),
  /** A credential scope this endpoint does not take: in the Authorization header, or a presigned URL's X-Amz-Credential. */
  badScope: (presigned: boolean, problem: string, details: Record<string, string> = {}) =>
    presigned
      ? new S3Error('AuthorizationQueryParametersError', 400, `Error parsing the X-Amz-Credential parameter; ${problem}`, {}, details)
      : new S3Error('AuthorizationHeaderMalformed', 400, `The authorization header is malformed; ${problem}`, {}, details),
  noSuchBucket: (bucket: string) => new S3Error('NoSuchBucket', 404, `The specified bucket does not exist: ${bucket}`),
  noSuchKey: () => new S3Error('NoSuchKey', 404, 'The specified key does not exist.'),
  noSuchUpload: () => new S3Error('NoSuchUpload', 404, 'The specified multipart upload does not exist.'),
  notImplemented: (what: string) => new S3Error('NotImplemented', 501, `${what} is not implemented by Stowage's S3 API (docs/s3.md)`),
  invalidArgument: (message: string) => new S3Error('InvalidArgument', 400, message),
  invalidRequest: (message: string) => new S3Error('InvalidRequest', 400, message),
  badDigest: (message = 'The Content-MD5 or checksum you specified did not match what we received.') =>
    new S3Error('BadDigest', 400, message),
  contentSha256Mismatch: () =>
    new S3Error('XAmzContentSHA256Mismatch', 400, "The provided 'x-amz-content-sha256' header does not match what was computed."),
  preconditionFailed: () => new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold'),
  malformedXml: () =>
    new S3Error('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema.'),
  invalidRange: (size: number) =>
    new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', { 'content-range': `bytes */${size}` }),
  entityTooSmall: () => new S3Error('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed object size.'),
  invalidPart: () =>
    new S3Error('InvalidPart', 400, 'One or more of the specified parts could not be found or its entity tag did not match.'),
  invalidPartNumber: () => new S3Error('InvalidPartNumber', 416, 'The requested partnumber is not satisfiable'),
  invalidPartOrder: () => new S3Error('InvalidPartOrder', 400, 'The list of parts was not in ascending order.'),
  incompleteBody: () =>
    new S3Error('IncompleteBody', 400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'),
  missingContentLength: () => new S3Error('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.'),
};
