import type { ObjectAttributes } from './backend.js';
import type { IndexRow } from './object-index.js';

/** An object's row as both indexes store it, column for column. */
export interface ObjectColumns {
  size: number;
  sha256: string;
  content_type: string;
  last_modified: number;
  expires_at: number | null;
  blob_id: string | null;
  inline_data: Buffer | null;
  /** ObjectAttributes as JSON; null when the object has none. */
  attributes: string | null;
}

export function rowFromColumns(row: ObjectColumns): IndexRow {
  return {
    size: row.size,
    sha256: row.sha256,
    contentType: row.content_type,
    lastModified: row.last_modified,
    expiresAt: row.expires_at,
    blobId: row.blob_id,
    inline: row.inline_data,
    attributes: parseAttributes(row.attributes),
  };
}

export function columnsFromRow(row: IndexRow): ObjectColumns {
  return {
    size: row.size,
    sha256: row.sha256,
    content_type: row.contentType,
    last_modified: row.lastModified,
    expires_at: row.expiresAt,
    blob_id: row.blobId,
    inline_data: row.inline,
    attributes: serializeAttributes(row.attributes),
  };
}

/** The `attributes` column of a row: JSON, or null for none (most objects: no bytes spent). */
export function serializeAttributes(attributes: ObjectAttributes | null): string | null {
  if (!attributes) return null;
  return JSON.stringify({
    metadata: attributes.metadata,
    cacheControl: attributes.cacheControl,
    contentDisposition: attributes.contentDisposition,
    ...(attributes.parts ? { parts: attributes.parts } : {}),
    ...(attributes.partSize ? { partSize: attributes.partSize } : {}),
    ...(attributes.s3Headers ? { s3Headers: attributes.s3Headers } : {}),
    ...(attributes.s3Etag ? { s3Etag: attributes.s3Etag } : {}),
    ...(attributes.s3UploadId ? { s3UploadId: attributes.s3UploadId } : {}),
    ...(attributes.s3Checksum ? { s3Checksum: attributes.s3Checksum } : {}),
  });
}

export function parseAttributes(column: string | null): ObjectAttributes | null {
  if (column === null) return null;
  const parsed = JSON.parse(column) as Partial<ObjectAttributes>;
  return {
    metadata: parsed.metadata ?? {},
    cacheControl: parsed.cacheControl ?? null,
    contentDisposition: parsed.contentDisposition ?? null,
    ...(parsed.parts ? { parts: parsed.parts } : {}),
    ...(parsed.partSize ? { partSize: parsed.partSize } : {}),
    ...(parsed.s3Headers ? { s3Headers: parsed.s3Headers } : {}),
    ...(parsed.s3Etag ? { s3Etag: parsed.s3Etag } : {}),
    ...(parsed.s3UploadId ? { s3UploadId: parsed.s3UploadId } : {}),
    ...(parsed.s3Checksum ? { s3Checksum: parsed.s3Checksum } : {}),
  };
}
