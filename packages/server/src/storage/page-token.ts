import { fail } from '../errors.js';

const VERSION = 1;

/**
 * The X-NEXT paging token: opaque to clients, it carries the prefix and the last key returned,
 * so the next page is one range query after that key. A token is only valid for its own prefix.
 */
export function encodePageToken(prefix: string, lastKey: string): string {
  return Buffer.from(JSON.stringify([VERSION, prefix, lastKey]), 'utf8').toString('base64url');
}

/** The key to continue after; 400 InvalidPageToken for garbage or another prefix's token. */
export function decodePageToken(token: string, prefix: string): string {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw fail('InvalidPageToken');
  }
  if (!Array.isArray(decoded) || decoded.length !== 3 || decoded[0] !== VERSION) throw fail('InvalidPageToken');
  const [, tokenPrefix, lastKey] = decoded as [number, unknown, unknown];
  if (tokenPrefix !== prefix) throw fail('InvalidPageToken', 'The X-NEXT token belongs to a listing with another prefix');
  if (typeof lastKey !== 'string' || !lastKey.startsWith(prefix)) throw fail('InvalidPageToken');
  return lastKey;
}
