import { explainInvalidKey, MAX_KEY_BYTES } from 'stowage-client/protocol';
import { S3Error, s3Errors } from './errors.js';

/** S3's answers for keys Stowage does not take: too long, or (unlike S3) with control characters. */
export function assertValidKey(key: string): void {
  const problem = explainInvalidKey(key);
  if (!problem) return;
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', 'Your key is too long');
  throw s3Errors.invalidArgument(`Invalid key: ${problem}`);
}
