import { LRUCache } from 'lru-cache';
import type { ObjectRef } from '../backend.js';
import type { IndexRow } from '../object-index.js';

/** What an entry costs besides its inline bytes and key: the row object, strings, the map slot. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * The most recently read object rows of the embedded index, in memory. A read-path lookup in
 * SQLite costs a read transaction (two fcntl lock calls on the WAL index) and a row to marshal:
 * most of what a small GET costs beyond HTTP. A hot row is served from here instead.
 *
 * Coherent because this process is the only writer of the `objects` table (the data-directory
 * lock; admin commands touch other tables): every write drops the key's entry inside the same
 * synchronous transaction, so no read can see the cache and the database disagree, and a rolled
 * back write only costs a miss. Entries are filled from reads, which only ever see committed
 * rows. Expiry is checked on every hit, as the SQL does.
 */
export class RowCache {
  private readonly rows: LRUCache<string, IndexRow> | undefined;

  constructor(maxBytes: number) {
    this.rows =
      maxBytes > 0
        ? new LRUCache<string, IndexRow>({
            maxSize: maxBytes,
            sizeCalculation: (row, key) => ENTRY_OVERHEAD_BYTES + key.length + (row.inline?.length ?? 0) + attributesLength(row),
          })
        : undefined;
  }

  /** The cached row of `ref` when it is visible at `now`; undefined when unknown here or expired. */
  get(ref: ObjectRef, now: number): IndexRow | undefined {
    const row = this.rows?.get(cacheKey(ref));
    return row && (row.expiresAt === null || row.expiresAt > now) ? row : undefined;
  }

  set(ref: ObjectRef, row: IndexRow): void {
    this.rows?.set(cacheKey(ref), row);
  }

  /** Called by every write of `ref`'s row, inside its transaction. */
  drop(ref: { readonly tenant: string; readonly type: string; readonly key: string }): void {
    this.rows?.delete(cacheKey(ref));
  }
}

/** About what a row's attributes take in memory (characters; up to a few KiB). */
function attributesLength(row: IndexRow): number {
  const attributes = row.attributes;
  if (!attributes) return 0;
  let length =
    ENTRY_OVERHEAD_BYTES +
    (attributes.cacheControl?.length ?? 0) +
    (attributes.contentDisposition?.length ?? 0) +
    // The domain's fields, whatever they are: about their stored length.
    (attributes.chosen ? JSON.stringify(attributes.chosen).length : 0) +
    (attributes.content ? JSON.stringify(attributes.content).length : 0);
  for (const [name, value] of Object.entries(attributes.metadata)) length += name.length + value.length;
  return length;
}

// The tenant (a JWT subject: any text) is delimited by its length, the type (a storage type, a
// bucket name or an internal type) has no '/', and the key is the rest: no two refs share a cache key.
function cacheKey(ref: { readonly tenant: string; readonly type: string; readonly key: string }): string {
  return `${ref.tenant.length}:${ref.tenant}/${ref.type}/${ref.key}`;
}
