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
  };
}
