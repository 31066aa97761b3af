import { namesStoredBlob } from './composite.js';

/** A column of the index that names the blob holding a stored value, with the size and sha256 its row gives that value. */
export interface BlobReference {
  readonly table: string;
  readonly blobColumn: string;
  readonly sizeColumn: string;
  readonly sha256Column: string;
}

/**
 * Every place the index names a blob that holds a stored value. Both indexes (SQLite and
 * PostgreSQL) have these tables under these names. A table added to the index that names blobs
 * is added here and nowhere else: the garbage collector then keeps the blobs it names, fsck and
 * the orphan sweeps count them as used, and a backup copies them. Its blob column needs an index,
 * since the collector probes it for each blob it may delete.
 */
export const BLOB_REFERENCES: readonly BlobReference[] = [
  { table: 'objects', blobColumn: 'blob_id', sizeColumn: 'size', sha256Column: 'sha256' },
  // Noncurrent versions kept for retention (delete markers name none).
  { table: 'object_versions', blobColumn: 'blob_id', sizeColumn: 'size', sha256Column: 'sha256' },
  // The parts of composite values (composite.ts). The two tables above name the manifests.
  { table: 'manifest_parts', blobColumn: 'blob_id', sizeColumn: 'size', sha256Column: 'sha256' },
];

/**
 * A query that has a row when some row of the index names the blob `blob` (an SQL expression: a
 * column of the enclosing query), for `EXISTS (…)`. The same text for SQLite and PostgreSQL.
 */
export function blobNamedQuery(blob: string, references: readonly BlobReference[] = BLOB_REFERENCES): string {
  return references.map(({ table, blobColumn }) => `SELECT 1 FROM ${table} AS ref WHERE ref.${blobColumn} = ${blob}`).join(' UNION ALL ');
}

/** SQLite: one row (1) when some row names the blob given as the one parameter, none otherwise. */
export const SQLITE_BLOB_IN_USE = `SELECT 1 FROM (SELECT ? AS blob) AS probe WHERE EXISTS (${blobNamedQuery('probe.blob')})`;

/** One blob the index names, with the size and sha256 of the value it holds. */
export interface NamedBlob {
  readonly blob_id: string;
  readonly size: number;
  readonly sha256: string;
}

/**
 * Every blob of the store the index names, once (copies share blobs), with the size and sha256 a
 * row gives its value, in blob id order: columns `blob_id`, `size`, `sha256` ({@link NamedBlob}).
 * Rows of expired objects not yet swept count: they still name their blobs. A composite value's
 * manifest is no blob: its parts are listed instead, by `manifest_parts`.
 */
export function namedBlobsQuery(references: readonly BlobReference[] = BLOB_REFERENCES): string {
  const named = references
    .map(
      ({ table, blobColumn, sizeColumn, sha256Column }) =>
        `SELECT ${blobColumn} AS blob_id, ${sizeColumn} AS size, ${sha256Column} AS sha256 FROM ${table}
         WHERE ${blobColumn} IS NOT NULL AND ${namesStoredBlob(blobColumn)}`,
    )
    .join(' UNION ALL ');
  return `SELECT blob_id, MAX(size) AS size, MAX(sha256) AS sha256 FROM (${named}) AS named GROUP BY blob_id ORDER BY blob_id`;
}
