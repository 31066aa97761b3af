import type { Statement } from 'better-sqlite3';
import { fail } from '../../errors.js';
import { type BucketChange, type BucketRecord, type BucketStore, isBucketName, type RemoveBucketOptions } from '../buckets.js';
import type { CommitQueue } from './commit-queue.js';
import { type IndexDb, SOFT_DELETED } from './index-db.js';
import type { RowCache } from './row-cache.js';
import type { SqliteVersions } from './sqlite-versions.js';
import type { TenantLedger } from './tenant-usage.js';

/** A row of `buckets` with its grantees (a JSON array, from the query). */
interface BucketRow {
  name: string;
  owner: string;
  created_at: number;
  quota_bytes: number | null;
  settings: string;
  bytes: number;
  objects: number;
  grantees: string;
}

const COLUMNS = `b.name, b.owner, b.created_at, b.quota_bytes, b.settings, b.bytes, b.objects,
  (SELECT json_group_array(grantee) FROM bucket_grantees g WHERE g.bucket = b.name) AS grantees`;
const VISIBLE = '(expires_at IS NULL OR expires_at > @now)';

/**
 * Named buckets in the embedded index: `buckets` (one row each, with the bytes and objects its
 * rows hold, kept by TenantLedger in every write's transaction) and `bucket_grantees`, so a user
 * lists the buckets they own and those shared with them by one index range each. Changes go
 * through the group commit like every other write: one process owns the database, so a
 * transaction here already sees and holds everything it reads.
 */
export class SqliteBuckets implements BucketStore {
  private readonly sql: ReturnType<typeof prepare>;

  constructor(
    index: IndexDb,
    private readonly commits: CommitQueue,
    private readonly ledger: TenantLedger,
    private readonly cache: RowCache,
    private readonly versions: SqliteVersions,
  ) {
    this.sql = prepare(index);
  }

  async create(bucket: Omit<BucketRecord, 'bytes' | 'objects'>): Promise<boolean> {
    if (!isBucketName(bucket.name)) throw fail('InvalidBucketName', `"${bucket.name}" cannot name a bucket`);
    return this.commits.enqueue(() => {
      // Rows of (owner, name) left from before are counted, so the bucket's usage is exact from the start.
      const created = this.sql.insert.run({
        name: bucket.name,
        owner: bucket.owner,
        createdAt: bucket.createdAt,
        quotaBytes: bucket.quotaBytes,
        settings: bucket.settings,
      });
      if (created.changes === 0) return false;
      this.setGrantees(bucket.name, bucket.grantees);
      return true;
    });
  }

  async find(name: string): Promise<BucketRecord | undefined> {
    const row = this.sql.find.get(name) as BucketRow | undefined;
    return row && toRecord(row);
  }

  async list({ user, after, limit }: { user: string; after: string | undefined; limit: number }): Promise<BucketRecord[]> {
    if (limit <= 0) return [];
    return (this.sql.list.all({ user, after: after ?? '', limit }) as BucketRow[]).map(toRecord);
  }

  async countOwned(owner: string): Promise<number> {
    return this.sql.countOwned.get(owner) as number;
  }

  async update(name: string, change: (current: BucketRecord) => BucketChange): Promise<BucketRecord | undefined> {
    return this.commits.enqueue(() => {
      const row = this.sql.find.get(name) as BucketRow | undefined;
      if (!row) return undefined;
      const next = change(toRecord(row));
      this.sql.update.run({ name, quotaBytes: next.quotaBytes, settings: next.settings });
      this.setGrantees(name, next.grantees);
      return toRecord(this.sql.find.get(name) as BucketRow);
    });
  }

  async remove({ name, owner, now, collectAfter }: RemoveBucketOptions): Promise<'deleted' | 'not-empty' | 'missing'> {
    return this.commits.enqueue(() => {
      const key = { name, owner, now };
      if (this.sql.owned.get(key) === undefined) return 'missing';
      if (this.sql.anyVisible.get(key) !== undefined || this.sql.anyOpenUpload.get(key) !== undefined) return 'not-empty';
      // Whatever rows are left expired at `now`: they go with the bucket, their blobs queued.
      // Rows deleted under retention (kept: versions, not counted) go as its versions do.
      const leftovers = this.sql.deleteObjects.all(key) as Array<{ key: Buffer; size: number; blob_id: string | null; kept: number }>;
      let bytes = 0;
      let objects = 0;
      for (const row of leftovers) {
        this.cache.drop({ tenant: owner, type: name, key: row.key.toString('utf8') });
        if (row.blob_id) this.sql.queueGarbage.run(row.blob_id, collectAfter);
        if (row.kept) continue;
        bytes += row.size;
        objects++;
      }
      // Its versions (retention) go with it: nothing could restore them into a bucket that is gone.
      for (const id of this.versions.removeOfType(owner, name)) this.sql.queueGarbage.run(id, collectAfter);
      this.sql.deleteGrantees.run(name);
      this.sql.deleteCors.run(owner, name);
      this.sql.delete.run(name);
      // The bucket's row is gone: only the owner's usage is left to charge.
      this.ledger.charge(owner, name, -bytes, -objects);
      return 'deleted';
    });
  }

  /** Inside a commit: the grantees of `name` become `grantees`. */
  private setGrantees(name: string, grantees: readonly string[]): void {
    this.sql.deleteGrantees.run(name);
    for (const grantee of new Set(grantees)) this.sql.insertGrantee.run(name, grantee);
  }
}

function prepare({ db }: IndexDb) {
  return {
    insert: db.prepare(
      `INSERT INTO buckets (name, owner, created_at, quota_bytes, settings, bytes, objects)
       SELECT @name, @owner, @createdAt, @quotaBytes, @settings, COALESCE(SUM(size), 0), COUNT(*)
       FROM objects WHERE tenant = @owner AND type = @name AND NOT ${SOFT_DELETED}
       ON CONFLICT (name) DO NOTHING`,
    ),
    find: db.prepare<[string]>(`SELECT ${COLUMNS} FROM buckets b WHERE b.name = ?`),
    // Each side is one index range (buckets_by_owner, bucket_grantees_by_grantee), at most `limit` long.
    list: db.prepare(
      `SELECT ${COLUMNS} FROM buckets b WHERE b.name IN (
         SELECT name FROM (SELECT name FROM buckets WHERE owner = @user AND name > @after ORDER BY name LIMIT @limit)
         UNION
         SELECT bucket FROM (SELECT bucket FROM bucket_grantees WHERE grantee = @user AND bucket > @after ORDER BY bucket LIMIT @limit)
       ) ORDER BY b.name LIMIT @limit`,
    ),
    countOwned: db.prepare<[string]>('SELECT COUNT(*) FROM buckets WHERE owner = ?').pluck(),
    update: db.prepare('UPDATE buckets SET quota_bytes = @quotaBytes, settings = @settings WHERE name = @name'),
    insertGrantee: db.prepare<[string, string]>('INSERT INTO bucket_grantees (bucket, grantee) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    deleteGrantees: db.prepare<[string]>('DELETE FROM bucket_grantees WHERE bucket = ?'),
    owned: db.prepare('SELECT 1 FROM buckets WHERE name = @name AND owner = @owner').pluck(),
    anyVisible: db.prepare(`SELECT 1 FROM objects WHERE tenant = @owner AND type = @name AND ${VISIBLE} LIMIT 1`).pluck(),
    anyOpenUpload: db
      .prepare(
        `SELECT 1 FROM uploads WHERE tenant = @owner AND type = @name AND expires_at > @now
           AND completed_json IS NULL AND cancelled = 0 LIMIT 1`,
      )
      .pluck(),
    deleteObjects: db.prepare(
      `DELETE FROM objects WHERE tenant = @owner AND type = @name RETURNING key, size, blob_id, ${SOFT_DELETED} AS kept`,
    ),
    deleteCors: db.prepare<[string, string]>('DELETE FROM bucket_settings WHERE tenant = ? AND type = ?'),
    delete: db.prepare<[string]>('DELETE FROM buckets WHERE name = ?'),
    queueGarbage: db.prepare<[string, number]>('INSERT INTO gc_queue (blob_id, due_at) VALUES (?, ?) ON CONFLICT DO NOTHING'),
  } satisfies Record<string, Statement<never[]> | Statement>;
}

function toRecord(row: BucketRow): BucketRecord {
  return {
    name: row.name,
    owner: row.owner,
    createdAt: row.created_at,
    quotaBytes: row.quota_bytes,
    settings: row.settings,
    grantees: (JSON.parse(row.grantees) as string[]).sort(),
    bytes: row.bytes,
    objects: row.objects,
  };
}
