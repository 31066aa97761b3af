/**
 * An error of a rule the domain keeps for the S3-compatible API (multipart uploads, flexible
 * checksums), which storage API v1 has no code for: S3's code, status and message, as S3
 * clients read them. The S3 front answers it as it is (s3/error-handler.ts).
 */
export class RuleError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'RuleError';
  }
}

export const ruleErrors = {
  noSuchUpload: () => new RuleError('NoSuchUpload', 404, 'The specified multipart upload does not exist.'),
  invalidPart: (message = 'One or more of the specified parts could not be found or its entity tag did not match.') =>
    new RuleError('InvalidPart', 400, message),
  entityTooSmall: () => new RuleError('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed object size.'),
  invalidRequest: (message: string) => new RuleError('InvalidRequest', 400, message),
  badDigest: (message: string) => new RuleError('BadDigest', 400, message),
  invalidRange: (size: number) =>
    new RuleError('InvalidRange', 416, 'The requested range is not satisfiable', { 'content-range': `bytes */${size}` }),
};
