import { fail } from '../../errors.js';
import { type BucketChange, type BucketRecord, type BucketStore, isBucketName, type RemoveBucketOptions } from '../buckets.js';
import { type PgDb, type Queries, statement } from './pg-db.js';
import type { PgGarbage } from './pg-garbage.js';
import type { PgLedger } from './pg-ledger.js';

const COLUMNS = `b.name, b.owner, b.created_at, b.quota_bytes, b.settings, b.bytes, b.objects,
  ARRAY(SELECT g.grantee FROM bucket_grantees g WHERE g.bucket = b.name ORDER BY g.grantee COLLATE "C") AS grantees`;
const OPEN_UPLOADS = 'completed_json IS NULL AND NOT cancelled';

// Rows of (owner, name) left from before are counted, so the bucket's usage is exact from the start.
const INSERT = statement(
  'bucket_insert',
  `INSERT INTO buckets (name, owner, created_at, quota_bytes, settings, bytes, objects)
   SELECT $1, $2, $3, $4, $5, COALESCE(SUM(size), 0), COUNT(*) FROM objects WHERE tenant = $2 AND type = $1
   ON CONFLICT (name) DO NOTHING
   RETURNING name`,
);
const FIND = statement('bucket_find', `SELECT ${COLUMNS} FROM buckets b WHERE b.name = $1`);
const FIND_FOR_UPDATE = statement('bucket_find_for_update', `SELECT ${COLUMNS} FROM buckets b WHERE b.name = $1 FOR UPDATE OF b`);
// Each side is one index range (buckets_by_owner, bucket_grantees_by_grantee), at most `limit` long.
const LIST = statement(
  'bucket_list',
  `SELECT ${COLUMNS} FROM buckets b WHERE b.name IN (
     (SELECT name FROM buckets WHERE owner = $1 AND name > $2 ORDER BY name LIMIT $3)
     UNION
     (SELECT bucket FROM bucket_grantees WHERE grantee = $1 AND bucket > $2 ORDER BY bucket LIMIT $3)
   ) ORDER BY b.name LIMIT $3`,
);
const COUNT_OWNED = statement('bucket_count_owned', 'SELECT COUNT(*)::bigint AS count FROM buckets WHERE owner = $1');
const UPDATE = statement('bucket_update', 'UPDATE buckets SET quota_bytes = $2, settings = $3 WHERE name = $1');
const DELETE_GRANTEES = statement('bucket_grantees_delete', 'DELETE FROM bucket_grantees WHERE bucket = $1');
const INSERT_GRANTEES = statement(
  'bucket_grantees_insert',
  'INSERT INTO bucket_grantees (bucket, grantee) SELECT $1, g FROM unnest($2::text[]) AS g ON CONFLICT DO NOTHING',
);
// The row lock a write's charge of the bucket waits for (bucket-usage.ts): from here to commit no
// write into the bucket can commit, so what the next statements see stays true.
const LOCK_OWNED = statement('bucket_lock_owned', 'SELECT 1 FROM buckets WHERE name = $1 AND owner = $2 FOR UPDATE');
const NOT_EMPTY = statement(
  'bucket_not_empty',
  `SELECT EXISTS (SELECT 1 FROM objects WHERE tenant = $2 AND type = $1 AND (expires_at IS NULL OR expires_at > $3))
     OR EXISTS (SELECT 1 FROM uploads WHERE tenant = $2 AND type = $1 AND expires_at > $3 AND ${OPEN_UPLOADS}) AS not_empty`,
);
// SKIP LOCKED: an expired row another transaction holds (a write over it, a sweep) is left to it.
// Waiting for it would deadlock with a write, which holds its row and waits for the bucket's; and
// with the bucket's row gone, no such transaction can make the row visible again (a write into
// the bucket is NoSuchBucket), so it stays expired until a sweep takes it.
const DELETE_LEFTOVERS = statement(
  'bucket_delete_leftovers',
  `DELETE FROM objects WHERE id IN (
     SELECT id FROM objects WHERE tenant = $2 AND type = $1 AND expires_at <= $3 FOR UPDATE SKIP LOCKED
   ) RETURNING size, blob_id`,
);
// Its versions (retention) go with it; one a restore or a purge holds is left to the purge.
const DELETE_VERSIONS = statement(
  'bucket_delete_versions',
  `DELETE FROM object_versions WHERE id IN (
     SELECT id FROM object_versions WHERE tenant = $2 AND type = $1 FOR UPDATE SKIP LOCKED
   ) RETURNING blob_id`,
);
const DELETE_CORS = statement('bucket_cors_delete', 'DELETE FROM bucket_settings WHERE tenant = $2 AND type = $1');
const DELETE = statement('bucket_delete', 'DELETE FROM buckets WHERE name = $1');

interface BucketRow {
  name: string;
  owner: string;
  created_at: number;
  quota_bytes: number | null;
  settings: string;
  bytes: number;
  objects: number;
  grantees: string[];
}

/**
 * Named buckets in the PostgreSQL index, shared by every server: `buckets` (one row each, with
 * the bytes and objects its rows hold, kept by PgLedger in every write's transaction) and
 * `bucket_grantees`. A change locks the bucket's row for its transaction; so does a removal,
 * which is what orders it with the writes into the bucket (bucket-usage.ts).
 */
export class PgBuckets implements BucketStore {
  constructor(
    private readonly db: PgDb,
    private readonly ledger: PgLedger,
    private readonly garbage: PgGarbage,
  ) {}

  async create(bucket: Omit<BucketRecord, 'bytes' | 'objects'>): Promise<boolean> {
    if (!isBucketName(bucket.name)) throw fail('InvalidBucketName', `"${bucket.name}" cannot name a bucket`);
    return this.db.transaction(async (tx) => {
      const { rowCount } = await tx.run(INSERT, [bucket.name, bucket.owner, bucket.createdAt, bucket.quotaBytes, bucket.settings]);
      if (!rowCount) return false;
      await this.setGrantees(tx, bucket.name, bucket.grantees);
      return true;
    });
  }

  async find(name: string): Promise<BucketRecord | undefined> {
    const { rows } = await this.db.run<BucketRow>(FIND, [name]);
    return rows[0] && toRecord(rows[0]);
  }

  async list({ user, after, limit }: { user: string; after: string | undefined; limit: number }): Promise<BucketRecord[]> {
    if (limit <= 0) return [];
    const { rows } = await this.db.run<BucketRow>(LIST, [user, after ?? '', limit]);
    return rows.map(toRecord);
  }

  async countOwned(owner: string): Promise<number> {
    const { rows } = await this.db.run<{ count: number }>(COUNT_OWNED, [owner]);
    return rows[0]?.count ?? 0;
  }

  async update(name: string, change: (current: BucketRecord) => BucketChange): Promise<BucketRecord | undefined> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.run<BucketRow>(FIND_FOR_UPDATE, [name]);
      const row = rows[0];
      if (!row) return undefined;
      const next = change(toRecord(row));
      await tx.run(UPDATE, [name, next.quotaBytes, next.settings]);
      await this.setGrantees(tx, name, next.grantees);
      const { rows: updated } = await tx.run<BucketRow>(FIND, [name]);
      return toRecord(updated[0] as BucketRow);
    });
  }

  async remove({ name, owner, now, collectAfter }: RemoveBucketOptions): Promise<'deleted' | 'not-empty' | 'missing'> {
    return this.db.transaction(async (tx) => {
      const { rowCount } = await tx.run(LOCK_OWNED, [name, owner]);
      if (!rowCount) return 'missing';
      // A statement of its own, after the lock: it sees every write that committed before it.
      const { rows } = await tx.run<{ not_empty: boolean }>(NOT_EMPTY, [name, owner, now]);
      if (rows[0]?.not_empty) return 'not-empty';
      const { rows: leftovers } = await tx.run<{ size: number; blob_id: string | null }>(DELETE_LEFTOVERS, [name, owner, now]);
      await this.garbage.queue(
        leftovers.flatMap((row) => (row.blob_id ? [row.blob_id] : [])),
        collectAfter,
        tx,
      );
      const { rows: versions } = await tx.run<{ blob_id: string | null }>(DELETE_VERSIONS, [name, owner]);
      await this.garbage.queue(
        versions.flatMap((row) => (row.blob_id ? [row.blob_id] : [])),
        collectAfter,
        tx,
      );
      await tx.run(DELETE_GRANTEES, [name]);
      await tx.run(DELETE_CORS, [name, owner]);
      await tx.run(DELETE, [name]);
      // The bucket's row is gone: only the owner's usage is left to charge.
      const bytes = leftovers.reduce((total, row) => total + row.size, 0);
      await this.ledger.charge(tx, owner, name, -bytes, -leftovers.length);
      return 'deleted';
    });
  }

  private async setGrantees(tx: Queries, name: string, grantees: readonly string[]): Promise<void> {
    await tx.run(DELETE_GRANTEES, [name]);
    if (grantees.length > 0) await tx.run(INSERT_GRANTEES, [name, [...new Set(grantees)]]);
  }
}

function toRecord(row: BucketRow): BucketRecord {
  return {
    name: row.name,
    owner: row.owner,
    createdAt: row.created_at,
    quotaBytes: row.quota_bytes,
    settings: row.settings,
    grantees: row.grantees,
    bytes: row.bytes,
    objects: row.objects,
  };
}
