import { KEY_SPACE_END, keyAfter, prefixUpperBound } from './key-range.js';
import type { IndexRow, KeyRange, ScannedKey, ScanOptions } from './object-index.js';

/** One entry of a folder or detailed listing: an object (with its row when details were asked), or a sub-prefix. */
export type ListEntry =
  | { readonly kind: 'object'; readonly key: string; readonly row: IndexRow | undefined }
  | { readonly kind: 'folder'; readonly prefix: string };

export interface FolderPage {
  readonly entries: ListEntry[];
  /** Where the next page starts (none: this was the last). */
  readonly next: Buffer | undefined;
}

export interface FolderListingOptions {
  readonly tenant: string;
  readonly type: KeyRange['type'];
  readonly prefix: string;
  /** Undefined: every key is listed (a detailed listing). */
  readonly delimiter: string | undefined;
  readonly details: boolean;
  /** Where this page starts: the prefix, or a token's resume point. */
  readonly start: Buffer;
  readonly limit: number;
  readonly now: number;
}

type Scan = (options: ScanOptions) => Promise<ScannedKey[]>;

/**
 * One page of a listing by delimiter: keys with no delimiter after the prefix, and each
 * sub-prefix once. A folder costs one index seek, not a read of its keys: the scan jumps past
 * everything under it (to the prefix's upper bound) and goes on from there.
 */
export async function listFolderPage(scan: Scan, options: FolderListingOptions): Promise<FolderPage> {
  const prefixBytes = Buffer.from(options.prefix, 'utf8');
  const end = prefixUpperBound(prefixBytes) ?? KEY_SPACE_END;
  const entries: ListEntry[] = [];
  let cursor: Buffer | undefined = options.start;
  while (cursor) {
    // One more than the page holds, to learn whether another page follows.
    const wanted = options.limit - entries.length + 1;
    const batch = await scan({
      tenant: options.tenant,
      type: options.type,
      start: cursor,
      end,
      limit: wanted,
      now: options.now,
      details: options.details,
    });
    let jumped = false;
    for (const { key, row } of batch) {
      const folder = options.delimiter === undefined ? undefined : folderOf(key, options.prefix, options.delimiter);
      if (entries.length === options.limit) return { entries, next: cursor };
      if (folder === undefined) {
        entries.push({ kind: 'object', key, row });
        cursor = keyAfter(Buffer.from(key, 'utf8'));
        continue;
      }
      entries.push({ kind: 'folder', prefix: folder });
      cursor = prefixUpperBound(Buffer.from(folder, 'utf8'));
      jumped = true;
      break;
    }
    if (!jumped && batch.length < wanted) return { entries, next: undefined };
  }
  return { entries, next: undefined };
}

/** The sub-prefix of `key` up to and including the first `delimiter` after `prefix`; undefined when there is none. */
export function folderOf(key: string, prefix: string, delimiter: string): string | undefined {
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}
