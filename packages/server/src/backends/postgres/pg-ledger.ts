import type { TenantUsage } from '../backend.js';
import { type BucketChargeRow, checkBucketCharge, mergeBuckets, touchesBucket, type UsageChange } from '../bucket-usage.js';
import { quotaExceeded } from '../conditions.js';
import { type PgDb, type Queries, statement } from './pg-db.js';

const OPEN_UPLOADS = 'completed_json IS NULL AND NOT cancelled';

const READ_USAGE = statement(
  'usage_read',
  `SELECT COALESCE(u.bytes, 0)::bigint AS bytes, COALESCE(u.objects, 0)::bigint AS objects,
     (SELECT COALESCE(SUM(received), 0) FROM uploads WHERE tenant = $1 AND ${OPEN_UPLOADS})::bigint AS pending,
     t.tenant IS NOT NULL AS own_quota, t.quota_bytes
   FROM (SELECT $1::text AS tenant) AS q
   LEFT JOIN usage u ON u.tenant = q.tenant
   LEFT JOIN tenants t ON t.tenant = q.tenant`,
);
// The row lock this upsert takes serializes the tenant's writers until commit, so the quota check
// below sees every commit before it: two writes racing for the last bytes cannot both get in.
const CHARGE = statement(
  'usage_charge',
  `INSERT INTO usage (tenant, bytes, objects) VALUES ($1, $2, $3)
   ON CONFLICT (tenant) DO UPDATE SET bytes = usage.bytes + excluded.bytes, objects = usage.objects + excluded.objects
   RETURNING bytes, objects,
     EXISTS (SELECT 1 FROM tenants WHERE tenant = $1) AS own_quota,
     (SELECT quota_bytes FROM tenants WHERE tenant = $1) AS quota_bytes`,
);
// Its row lock also orders the write with a removal of the bucket (bucket-usage.ts).
const CHARGE_BUCKET = statement(
  'bucket_charge',
  'UPDATE buckets SET bytes = bytes + $3, objects = objects + $4 WHERE name = $1 AND owner = $2 RETURNING bytes, quota_bytes',
);
const PENDING = statement(
  'usage_pending',
  `SELECT COALESCE(SUM(received), 0)::bigint AS pending FROM uploads WHERE tenant = $1 AND ${OPEN_UPLOADS}`,
);
const SET_QUOTA = statement(
  'quota_set',
  'INSERT INTO tenants (tenant, quota_bytes) VALUES ($1, $2) ON CONFLICT (tenant) DO UPDATE SET quota_bytes = excluded.quota_bytes',
);
const CLEAR_QUOTA = statement('quota_clear', 'DELETE FROM tenants WHERE tenant = $1');
const QUOTA_SOURCE = statement('quota_source', 'SELECT 1 FROM tenants WHERE tenant = $1');

interface UsageRow {
  bytes: number;
  objects: number;
  pending: number;
  own_quota: boolean;
  quota_bytes: number | null;
}

/**
 * Each tenant's stored bytes and object count, kept beside the rows they count, and each named
 * bucket's (its row in `buckets`). `charge` runs in the transaction that changes `objects`, so
 * the two never disagree. Locks are taken in one order by every transaction: the bucket rows (in
 * name order), then the tenant's usage row.
 */
export class PgLedger {
  constructor(
    private readonly db: PgDb,
    /** Quota of tenants the `tenants` table does not name; null for unlimited. */
    private readonly defaultQuotaBytes: number | null,
  ) {}

  async read(tenant: string): Promise<TenantUsage> {
    const { rows } = await this.db.run<UsageRow>(READ_USAGE, [tenant]);
    const row = rows[0] as UsageRow;
    return {
      tenant,
      bytes: row.bytes,
      objects: row.objects,
      pendingUploadBytes: row.pending,
      quotaBytes: row.own_quota ? row.quota_bytes : this.defaultQuotaBytes,
    };
  }

  /**
   * Records a change of `bytes` and `objects` of the tenant's rows of `type` inside `tx`. Growth
   * past the tenant's quota, or a named bucket's past its own, throws QuotaExceeded, rolling the
   * whole transaction back; shrinking is always allowed, so a tenant over a lowered quota can
   * still overwrite with less and delete. A named bucket that does not exist (or that another
   * user owns now) takes no growth and no new row (`stores`): NoSuchBucket.
   */
  async charge(tx: Queries, tenant: string, type: string, bytes: number, objects: number, stores = false): Promise<void> {
    await this.chargeAll(tx, tenant, [{ type, bytes, objects, stores }]);
  }

  /**
   * Records one operation's changes of several types of one tenant (a move, a write that releases
   * other rows): each named bucket's own, then the tenant's net change, which alone is held
   * against the tenant's quota (a move within a tenant is no growth).
   */
  async chargeAll(tx: Queries, tenant: string, changes: readonly UsageChange[]): Promise<void> {
    for (const change of mergeBuckets(changes)) {
      if (!touchesBucket(change)) continue;
      const { rows } = await tx.run<BucketChargeRow>(CHARGE_BUCKET, [change.type, tenant, change.bytes, change.objects]);
      checkBucketCharge(change, rows[0]);
    }
    await this.chargeTenant(
      tx,
      tenant,
      changes.reduce((total, change) => total + change.bytes, 0),
      changes.reduce((total, change) => total + change.objects, 0),
    );
  }

  private async chargeTenant(tx: Queries, tenant: string, bytes: number, objects: number): Promise<void> {
    if (bytes === 0 && objects === 0) return;
    const { rows } = await tx.run<Omit<UsageRow, 'pending'>>(CHARGE, [tenant, bytes, objects]);
    const row = rows[0] as Omit<UsageRow, 'pending'>;
    if (bytes <= 0) return;
    const quotaBytes = row.own_quota ? row.quota_bytes : this.defaultQuotaBytes;
    if (quotaBytes === null || row.bytes <= quotaBytes) return;
    const pending = await tx.run<{ pending: number }>(PENDING, [tenant]);
    const before: TenantUsage = {
      tenant,
      bytes: row.bytes - bytes,
      objects: row.objects - objects,
      pendingUploadBytes: pending.rows[0]?.pending ?? 0,
      quotaBytes,
    };
    throw quotaExceeded(before, bytes);
  }

  async setQuota(tenant: string, quotaBytes: number | null | 'default'): Promise<void> {
    if (quotaBytes === 'default') await this.db.run(CLEAR_QUOTA, [tenant]);
    else await this.db.run(SET_QUOTA, [tenant, quotaBytes]);
  }

  async quotaSource(tenant: string): Promise<'tenant' | 'default'> {
    const { rowCount } = await this.db.run(QUOTA_SOURCE, [tenant]);
    return rowCount ? 'tenant' : 'default';
  }
}
