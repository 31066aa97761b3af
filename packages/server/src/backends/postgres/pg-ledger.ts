import type { TenantUsage } from '../backend.js';
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
 * Each tenant's stored bytes and object count, kept beside the rows they count. `charge` runs in
 * the transaction that changes `objects`, so the two never disagree.
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
   * Records a change of `bytes` and `objects` inside `tx`. Growth past the tenant's quota throws
   * QuotaExceeded, rolling the whole transaction back; shrinking is always allowed, so a tenant
   * over a lowered quota can still overwrite with less and delete.
   */
  async charge(tx: Queries, tenant: string, bytes: number, objects: number): Promise<void> {
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
