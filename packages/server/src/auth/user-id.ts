import { hasControlCharacters } from 'stowage-client/protocol';
import { fail } from '../errors.js';

/** The longest user id, in UTF-8 bytes: room for an email address or an IdP's subject, with margin. */
export const MAX_USER_ID_BYTES = 1024;

/**
 * Whether `text` can name something in the index alike on both deployments: well-formed Unicode
 * (a lone surrogate has no UTF-8 form), no control characters (PostgreSQL's text refuses NUL,
 * SQLite keeps it; logs and headers must not carry the others), at most `maxBytes` of UTF-8.
 */
export function isPlainText(text: string, maxBytes: number): boolean {
  return text.length > 0 && text.isWellFormed() && !hasControlCharacters(text) && Buffer.byteLength(text) <= maxBytes;
}

/**
 * The one rule for user ids, wherever one comes from (a token's subject or tenant claim, a token
 * or API key to issue, a signed URL): 1-1024 bytes of well-formed text without control
 * characters. Anything else is 401 InvalidUser, before the id reaches the index.
 */
export function assertUserId(user: string): string {
  if (!isPlainText(user, MAX_USER_ID_BYTES)) {
    throw fail(
      'InvalidUser',
      `A user id must be 1-${MAX_USER_ID_BYTES} bytes of well-formed Unicode without control characters; this one is not`,
    );
  }
  return user;
}
