import type { Statement } from 'better-sqlite3';
import type { ObjectRef } from '../backend.js';
import { isManifestId, type ManifestPart, PartChangedError } from '../composite.js';
import type { ObjectColumns } from '../object-columns.js';
import type { ComposedPart } from '../object-index.js';
import type { IndexDb } from './index-db.js';

/** A part's row as the index's lookup of a key (expired or not) gives it. */
type PartSource = Pick<ObjectColumns, 'blob_id' | 'inline_data' | 'size' | 'sha256' | 'expires_at'>;

/**
 * The manifests of composite values in the embedded index (`manifest_parts`). Every function runs
 * inside the caller's commit but `parts`, a read.
 */
export class SqliteManifests {
  private readonly sql: Record<'parts' | 'insert' | 'dissolve', Statement>;

  constructor(
    { db }: IndexDb,
    /** The row of a key, expired or not (the index's own lookup). */
    private readonly rowOf: (ref: ObjectRef) => PartSource | undefined,
  ) {
    this.sql = {
      parts: db.prepare('SELECT blob_id, inline_data, size, sha256 FROM manifest_parts WHERE manifest_id = ? ORDER BY seq'),
      insert: db.prepare('INSERT INTO manifest_parts (manifest_id, seq, blob_id, inline_data, size, sha256) VALUES (?, ?, ?, ?, ?, ?)'),
      dissolve: db.prepare('DELETE FROM manifest_parts WHERE manifest_id = ? RETURNING blob_id').pluck(),
    };
  }

  /**
   * Writes manifest `manifestId` from the rows of `parts`, each visible at `now` and still holding
   * the bytes given. A part that is itself composite lends its own parts (a manifest never names
   * another); an empty part adds none.
   */
  write(manifestId: string, parts: readonly ComposedPart[], now: number): void {
    let seq = 0;
    parts.forEach((part, i) => {
      const row = this.rowOf(part.ref);
      const visible = row !== undefined && (row.expires_at === null || row.expires_at > now);
      if (!row || !visible || row.sha256 !== part.sha256 || row.size !== part.size) throw new PartChangedError(i);
      const pieces: ManifestPart[] = isManifestId(row.blob_id)
        ? this.parts(row.blob_id)
        : [{ blobId: row.blob_id, inline: row.inline_data, size: row.size, sha256: row.sha256 }];
      for (const piece of pieces)
        if (piece.size > 0)
          this.sql.insert.run(manifestId, seq++, piece.blobId, piece.blobId ? null : piece.inline, piece.size, piece.sha256);
    });
  }

  parts(manifestId: string): ManifestPart[] {
    const rows = this.sql.parts.all(manifestId) as Array<Omit<PartSource, 'expires_at'>>;
    return rows.map((row) => ({ blobId: row.blob_id, inline: row.inline_data, size: row.size, sha256: row.sha256 }));
  }

  /** Removes the manifest's parts; the blobs they named. */
  dissolve(manifestId: string): string[] {
    return (this.sql.dissolve.all(manifestId) as Array<string | null>).filter((id): id is string => id !== null);
  }
}
