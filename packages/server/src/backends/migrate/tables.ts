/**
 * The index tables `stowage migrate` copies between a data directory (SQLite) and PostgreSQL, in
 * the order they are copied. Both indexes give these tables the same names and columns.
 *
 * ADDING A TABLE: one line here. Name it, give the columns of its natural key (those of its
 * primary key or unique index: a row is upserted by them, so a second run overwrites what the
 * first copied) and the other columns to copy as they are; if a column names a blob in the blob
 * store, give `blob` (its id and size columns): the blob is copied, and checked by the
 * verification, before the row is written. A generated `id` column is never copied.
 *
 * Not copied, on purpose:
 * - `usage`, and the `bytes`/`objects` counters of `buckets`: recomputed from the copied objects
 *   at the end of every run (`recomputeDerived`), as fsck --repair would;
 * - `uploads`: resumable (v1) upload sessions in progress; their staged bytes live in the source's
 *   own staging. Finish or cancel them before the final pass (S3 multipart uploads are rows of
 *   `objects` and do move);
 * - `gc_queue` and `chores`: each deployment's own background work. Blobs queued for deletion
 *   are not copied at all: only blobs that a copied row names are.
 */
export interface MigratedTable {
  readonly name: string;
  /** The columns that identify a row, in the order of its primary key or unique index. */
  readonly key: readonly string[];
  /** The other columns, copied as they are. */
  readonly columns: readonly string[];
  /** A blob the row names: copied before the row. */
  readonly blob?: { readonly id: string; readonly size: string } | undefined;
}

/** The columns of a stored value, which current rows and kept versions both have. */
const VALUE_COLUMNS = ['size', 'sha256', 'content_type', 'last_modified', 'expires_at', 'blob_id', 'inline_data', 'attributes'];

export const MIGRATED_TABLES: readonly MigratedTable[] = [
  { name: 'tenants', key: ['tenant'], columns: ['quota_bytes'] },
  {
    name: 'api_keys',
    key: ['client_id'],
    columns: ['tenant', 'secret_hash', 'secret_sealed', 'created_at', 'name', 'scope', 'revoked_at'],
  },
  { name: 'buckets', key: ['name'], columns: ['owner', 'created_at', 'quota_bytes', 'settings'] },
  { name: 'bucket_grantees', key: ['bucket', 'grantee'], columns: [] },
  { name: 'bucket_settings', key: ['tenant', 'type'], columns: ['cors'] },
  {
    // The parts of composite values, before the rows that name their manifests.
    name: 'manifest_parts',
    key: ['manifest_id', 'seq'],
    columns: ['blob_id', 'inline_data', 'size', 'sha256'],
    blob: { id: 'blob_id', size: 'size' },
  },
  {
    // A composite value's blob_id names its manifest (composite.ts): no blob is copied for it.
    name: 'objects',
    key: ['tenant', 'type', 'key'],
    columns: [...VALUE_COLUMNS, 'version_id', 'current_since'],
    blob: { id: 'blob_id', size: 'size' },
  },
  {
    // Noncurrent versions kept for retention, with their purge times (delete markers name no blob).
    name: 'object_versions',
    key: ['version_id', 'tenant', 'type', 'key'],
    columns: [...VALUE_COLUMNS, 'current_since', 'stopped_at', 'purge_after', 'delete_marker'],
    blob: { id: 'blob_id', size: 'size' },
  },
];

/** A row as both databases give it: numbers, strings, byte buffers, nulls. */
export type Row = Record<string, unknown>;

export function columnsOf(table: MigratedTable): string[] {
  return [...table.key, ...table.columns];
}

/** Whether two rows of `table` hold the same values. */
export function sameRow(table: MigratedTable, a: Row, b: Row): boolean {
  return columnsOf(table).every((column) => sameValue(a[column], b[column]));
}

function sameValue(a: unknown, b: unknown): boolean {
  // PostgreSQL's booleans are SQLite's 0 and 1.
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) === Number(b);
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (typeof a === 'bigint' || typeof b === 'bigint') return String(a) === String(b);
  return (a ?? null) === (b ?? null);
}

/** A row's natural key as one string, to match rows of the two databases. */
export function keyOf(table: MigratedTable, row: Row): string {
  return JSON.stringify(
    table.key.map((column) => (Buffer.isBuffer(row[column]) ? (row[column] as Buffer).toString('base64') : row[column])),
  );
}
