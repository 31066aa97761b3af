import { fail } from '../errors.js';

const VERSION = 2;

/** What a folder or detailed listing is: a token continues only the listing it came from. */
export interface FolderListingShape {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly details: boolean;
}

/**
 * The X-NEXT token of a folder or detailed listing: the listing's shape and where its next page
 * starts, as bytes (past the whole of a folder the page ended on, which need not be a key).
 */
export function encodeFolderToken(shape: FolderListingShape, next: Buffer): string {
  const fields = [VERSION, shape.prefix, shape.delimiter ?? null, shape.details, next.toString('base64url')];
  return Buffer.from(JSON.stringify(fields), 'utf8').toString('base64url');
}

/** Where the next page starts; 400 InvalidPageToken for garbage or another listing's token. */
export function decodeFolderToken(token: string, shape: FolderListingShape): Buffer {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw fail('InvalidPageToken');
  }
  if (!Array.isArray(decoded) || decoded.length !== 5 || decoded[0] !== VERSION) throw fail('InvalidPageToken');
  const [, prefix, delimiter, details, next] = decoded as unknown[];
  if (prefix !== shape.prefix || delimiter !== (shape.delimiter ?? null) || details !== shape.details)
    throw fail('InvalidPageToken', 'The X-NEXT token belongs to another listing (prefix, delimiter or details differ)');
  if (typeof next !== 'string') throw fail('InvalidPageToken');
  const start = Buffer.from(next, 'base64url');
  // Every resume point of a prefix's listing starts with the prefix: the page stays inside it.
  if (!start.subarray(0, Buffer.byteLength(shape.prefix)).equals(Buffer.from(shape.prefix, 'utf8'))) throw fail('InvalidPageToken');
  return start;
}
