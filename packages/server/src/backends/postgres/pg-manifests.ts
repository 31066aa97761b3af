import { blobNamedQuery } from '../blob-references.js';
import { isManifestId, type ManifestPart, PartChangedError } from '../composite.js';
import type { ComposedPart } from '../object-index.js';
import { type PgDb, type Queries, statement } from './pg-db.js';
import type { PgGarbage } from './pg-garbage.js';

interface PartRow {
  blob_id: string | null;
  inline_data: Buffer | null;
  size: string | number;
  sha256: string;
}

// The part's row is locked: a part uploaded again meanwhile waits for the commit, then finds none.
const SOURCE = statement(
  'manifest_source',
  'SELECT blob_id, inline_data, size, sha256, expires_at FROM objects WHERE tenant = $1 AND type = $2 AND key = $3 FOR UPDATE',
);
const PARTS = statement(
  'manifest_parts',
  'SELECT blob_id, inline_data, size, sha256 FROM manifest_parts WHERE manifest_id = $1 ORDER BY seq',
);
const INSERT = statement(
  'manifest_insert',
  `INSERT INTO manifest_parts (manifest_id, seq, blob_id, inline_data, size, sha256)
   SELECT $1, seq - 1, blob_id, inline_data, size, sha256
   FROM unnest($2::text[], $3::bytea[], $4::bigint[], $5::text[]) WITH ORDINALITY AS p(blob_id, inline_data, size, sha256, seq)`,
);
// Only a manifest no row names is dissolved (a reference is only made from a row that holds one,
// so once none does, none will): its parts go, and it leaves the queue either way.
const DISSOLVE = statement(
  'manifest_dissolve',
  `WITH unnamed AS (
     SELECT probe.manifest FROM unnest($1::text[]) AS probe(manifest) WHERE NOT EXISTS (${blobNamedQuery('probe.manifest')})
   ), parts AS (
     DELETE FROM manifest_parts WHERE manifest_id IN (SELECT manifest FROM unnamed) RETURNING blob_id
   ), forgotten AS (
     DELETE FROM gc_queue WHERE blob_id = ANY($1::text[])
   )
   SELECT blob_id FROM parts WHERE blob_id IS NOT NULL`,
);

const partOf = (row: PartRow): ManifestPart => ({
  blobId: row.blob_id,
  inline: row.inline_data,
  size: Number(row.size),
  sha256: row.sha256,
});

/** The manifests of composite values in PostgreSQL (`manifest_parts`). */
export class PgManifests {
  constructor(
    private readonly db: PgDb,
    private readonly garbage: PgGarbage,
  ) {}

  /**
   * Writes manifest `manifestId` in `tx` from the rows of `parts`, each visible at `now` and still
   * holding the bytes given. A part that is itself composite lends its own parts (a manifest never
   * names another); an empty part adds none.
   */
  async write(tx: Queries, manifestId: string, parts: readonly ComposedPart[], now: number): Promise<void> {
    const pieces: ManifestPart[] = [];
    for (const [i, part] of parts.entries()) {
      const { rows } = await tx.run<PartRow & { expires_at: string | null }>(SOURCE, [
        part.ref.tenant,
        part.ref.type,
        Buffer.from(part.ref.key, 'utf8'),
      ]);
      const row = rows[0];
      const visible = row !== undefined && (row.expires_at === null || Number(row.expires_at) > now);
      if (!row || !visible || row.sha256 !== part.sha256 || Number(row.size) !== part.size) throw new PartChangedError(i);
      if (isManifestId(row.blob_id)) pieces.push(...(await this.parts(row.blob_id, tx)));
      else pieces.push(partOf(row));
    }
    const kept = pieces.filter((piece) => piece.size > 0);
    await tx.run(INSERT, [
      manifestId,
      kept.map((piece) => piece.blobId),
      kept.map((piece) => (piece.blobId ? null : piece.inline)),
      kept.map((piece) => piece.size),
      kept.map((piece) => piece.sha256),
    ]);
  }

  async parts(manifestId: string, tx: Queries = this.db): Promise<ManifestPart[]> {
    const { rows } = await tx.run<PartRow>(PARTS, [manifestId]);
    return rows.map(partOf);
  }

  async dissolve(manifestIds: readonly string[], collectAfter: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      const { rows } = await tx.run<{ blob_id: string }>(DISSOLVE, [manifestIds]);
      await this.garbage.queue(
        rows.map((row) => row.blob_id),
        collectAfter,
        tx,
      );
    });
  }
}
