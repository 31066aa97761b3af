import { createHash, randomBytes } from 'node:crypto';

/**
 * Composite values: an object whose bytes are other values' bytes in order (the parts of the
 * multipart upload that completed it), stored without copying a byte. Its row names a manifest
 * (`blob_id` holds the manifest's id, which no blob store ever gives out: blob ids are 32 hex
 * digits), and the index's `manifest_parts` rows list the parts in order, each a blob or inline
 * bytes, with its size and sha256. The rows naming the manifest are its references, as rows are
 * for blobs; the manifest's parts are references to their blobs. When no row names a manifest any
 * more, the collector dissolves it: its parts rows go and their blobs are queued.
 */
const MANIFEST_PREFIX = 'm-';

/** A new manifest id. */
export function newManifestId(): string {
  return `${MANIFEST_PREFIX}${randomBytes(16).toString('hex')}`;
}

/** Whether a row's blob id names a manifest (a composite value), not a blob of the store. */
export function isManifestId(blobId: string | null | undefined): blobId is string {
  return blobId?.startsWith(MANIFEST_PREFIX) === true;
}

/** SQL (SQLite and PostgreSQL): `column` names a blob of the store, not a manifest. */
export function namesStoredBlob(column: string): string {
  return `${column} NOT LIKE '${MANIFEST_PREFIX}%'`;
}

/**
 * The sha256 a composite value is known by: the sha256 of its parts' sha256s (each as its row
 * gives it, a line each), then `-` and their count, as S3 names a multipart upload's ETag after
 * its parts'. Computing the sha256 of the bytes themselves would read every byte again; this
 * identifies the same bytes from the same parts, and no value of a plain write has its form.
 */
export function compositeSha256(partSha256s: readonly string[]): string {
  const hash = createHash('sha256');
  for (const sha256 of partSha256s) hash.update(`${sha256}\n`);
  return `${hash.digest('hex')}-${partSha256s.length}`;
}

/** Whether `sha256` is the sha256 of a value's bytes (64 hex digits), not a composite's. */
export function isContentSha256(sha256: string): boolean {
  return /^[0-9a-f]{64}$/.test(sha256);
}

/** One part of a manifest, as the index lists it: a blob of the store, or inline bytes. */
export interface ManifestPart {
  readonly blobId: string | null;
  readonly inline: Buffer | null;
  readonly size: number;
  readonly sha256: string;
}

/** A part of a composite value is gone, or holds other bytes than were checked: nothing was stored. */
export class PartChangedError extends Error {
  constructor(readonly index: number) {
    super(`part ${index + 1} of the composite value changed after it was checked`);
    this.name = 'PartChangedError';
  }
}
