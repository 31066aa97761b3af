import { randomInt } from 'node:crypto';
import type { TenantUsage } from '../backend.js';
import { type BucketChargeRow, checkBucketCharge, mergeBuckets, touchesBucket, type UsageChange } from '../bucket-usage.js';
import { quotaExceeded } from '../conditions.js';
import { type PgDb, type Queries, RetryTransaction, statement } from './pg-db.js';

const OPEN_UPLOADS = 'completed_json IS NULL AND NOT cancelled';

/**
 * A tenant's usage is kept in STRIPES rows (tenant, stripe), each transaction charging one of them
 * chosen at random, so writers of one tenant do not queue on one row lock. Growth under a quota is
 * held exact by ceilings: each stripe may grow up to its `ceiling`, set for the quota `quota_basis`,
 * and the ceilings together never exceed that quota. A growth that would pass its stripe's ceiling
 * (or finds it set for another quota) locks every stripe, sums them, and either refuses the write
 * or hands each stripe a new share of what is left: the tenant's writes serialize only near the quota.
 */
export const USAGE_STRIPES = 16;

const READ_USAGE = statement(
  'usage_read',
  `SELECT (SELECT COALESCE(SUM(bytes), 0) FROM usage WHERE tenant = $1)::bigint AS bytes,
     (SELECT COALESCE(SUM(objects), 0) FROM usage WHERE tenant = $1)::bigint AS objects,
     (SELECT COALESCE(SUM(received), 0) FROM uploads WHERE tenant = $1 AND ${OPEN_UPLOADS})::bigint AS pending,
     t.tenant IS NOT NULL AS own_quota, t.quota_bytes
   FROM (SELECT $1::text AS tenant) AS q
   LEFT JOIN tenants t ON t.tenant = q.tenant`,
);
/** Shrinking, or growing without a quota: the stripe takes the change whatever its ceiling. */
const CHARGE_STRIPE = statement(
  'usage_charge_stripe',
  `INSERT INTO usage (tenant, stripe, bytes, objects) VALUES ($1, $2, $3, $4)
   ON CONFLICT (tenant, stripe) DO UPDATE SET bytes = usage.bytes + excluded.bytes, objects = usage.objects + excluded.objects`,
);
/** The quota of tenant $1: its own (null: unlimited), else the default, parameter `defaultParam`. */
function tenantQuota(defaultParam: string): string {
  return `SELECT CASE WHEN t.tenant IS NOT NULL THEN t.quota_bytes ELSE ${defaultParam}::bigint END AS quota_bytes
     FROM (SELECT $1::text AS tenant) AS q LEFT JOIN tenants t ON t.tenant = q.tenant`;
}
/**
 * Growing: the tenant's quota (its own, else the default $5), and the stripe charged when there is
 * none or the growth fits under the stripe's ceiling for that same quota.
 */
const GROW_STRIPE = statement(
  'usage_grow_stripe',
  `WITH quota AS (${tenantQuota('$5')}), charged AS (
     UPDATE usage u SET bytes = u.bytes + $3, objects = u.objects + $4
     FROM quota
     WHERE u.tenant = $1 AND u.stripe = $2
       AND (quota.quota_bytes IS NULL OR (u.quota_basis = quota.quota_bytes AND u.bytes + $3 <= u.ceiling))
     RETURNING 1
   )
   SELECT (SELECT quota_bytes FROM quota) AS quota_bytes, EXISTS (SELECT 1 FROM charged) AS charged,
     (SELECT quota_bytes FROM quota) IS NULL AND EXISTS (SELECT 1 FROM usage WHERE tenant = $1 AND quota_basis IS NOT NULL) AS stale`,
);
/**
 * Growth without a quota is outside every ceiling: the ceilings set for an earlier quota no longer
 * bound the total, so no stripe may use them again (the next growth under a quota rebalances).
 */
const FORGET_CEILINGS = statement(
  'usage_forget_ceilings',
  'UPDATE usage SET quota_basis = NULL WHERE tenant = $1 AND quota_basis IS NOT NULL',
);
/** The tenant's quota: its own, else the default ($2). */
const QUOTA_OF = statement('usage_quota_of', tenantQuota('$2'));
/**
 * One rebalancing writer per tenant at a time (the two-key advisory lock space, apart from the
 * key locks'): two of them each locking the stripes could otherwise deadlock on a stripe's newer
 * version. Writers on the fast path never take it.
 */
const REBALANCE_LOCK_CLASS = 0x5708;
const LOCK_REBALANCE = statement('usage_lock_rebalance', `SELECT pg_advisory_xact_lock(${REBALANCE_LOCK_CLASS}, hashtext($1))`);
/** Every stripe of the tenant exists (a new one is created at zero), so locking them all leaves none out. */
const FILL_STRIPES = statement(
  'usage_fill_stripes',
  `INSERT INTO usage (tenant, stripe, bytes, objects)
   SELECT $1, stripe, 0, 0 FROM generate_series(0, ${USAGE_STRIPES - 1}) AS stripe
   ON CONFLICT (tenant, stripe) DO NOTHING`,
);
/** Locks every stripe of the tenant, in stripe order (one order for every rebalancing writer). */
const LOCK_STRIPES = statement(
  'usage_lock_stripes',
  `SELECT COALESCE(SUM(bytes), 0)::bigint AS bytes, COALESCE(SUM(objects), 0)::bigint AS objects
   FROM (SELECT bytes, objects FROM usage WHERE tenant = $1 ORDER BY stripe FOR UPDATE) AS locked`,
);
/** Charges stripe $2 and gives every stripe a ceiling $5 above what it holds, for quota $6. */
const REBALANCE = statement(
  'usage_rebalance',
  `UPDATE usage SET
     bytes = bytes + CASE WHEN stripe = $2 THEN $3::bigint ELSE 0 END,
     objects = objects + CASE WHEN stripe = $2 THEN $4::bigint ELSE 0 END,
     ceiling = bytes + CASE WHEN stripe = $2 THEN $3::bigint ELSE 0 END + $5::bigint,
     quota_basis = $6
   WHERE tenant = $1`,
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

/** The stripe a transaction charges: one per transaction, so a transaction never holds two of a tenant's. */
const stripes = new WeakMap<Queries, number>();
function stripeOf(tx: Queries): number {
  let stripe = stripes.get(tx);
  if (stripe === undefined) {
    stripe = randomInt(USAGE_STRIPES);
    stripes.set(tx, stripe);
  }
  return stripe;
}

/**
 * Each tenant's stored bytes and object count, kept beside the rows they count, and each named
 * bucket's (its row in `buckets`). `charge` runs in the transaction that changes `objects`, so
 * the two never disagree. Locks are taken in one order by every transaction: the bucket rows (in
 * name order), then the tenant's usage stripe (or, near its quota, all of them in stripe order).
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
    const stripe = stripeOf(tx);
    if (bytes <= 0) {
      await tx.run(CHARGE_STRIPE, [tenant, stripe, bytes, objects]);
      return;
    }
    const rebalancing = `usage-rebalance:${tenant}`;
    if (tx.memo?.has(rebalancing)) {
      await this.rebalance(tx, tenant, stripe, bytes, objects);
      return;
    }
    const { rows } = await tx.run<{ quota_bytes: number | null; charged: boolean; stale: boolean }>(GROW_STRIPE, [
      tenant,
      stripe,
      bytes,
      objects,
      this.defaultQuotaBytes,
    ]);
    const { quota_bytes: quotaBytes, charged, stale } = rows[0] as { quota_bytes: number | null; charged: boolean; stale: boolean };
    if (quotaBytes === null) {
      if (!charged) await tx.run(CHARGE_STRIPE, [tenant, stripe, bytes, objects]);
      if (stale) await tx.run(FORGET_CEILINGS, [tenant]);
      return;
    }
    if (charged) return;
    // The update that did not fit may still hold the stripe's lock (PostgreSQL locks the newest
    // version of a row before it rechecks the condition); waiting for the rebalance lock while
    // holding it could deadlock with a rebalancing writer. So the transaction runs again and
    // rebalances first.
    if (tx.memo) {
      tx.memo.set(rebalancing, true);
      throw new RetryTransaction(`usage of ${tenant}: rebalance`);
    }
    await this.rebalance(tx, tenant, stripe, bytes, objects);
  }

  /**
   * The slow path of a growth under a quota: with the tenant's rebalance lock and every stripe
   * held, the quota as it is now and the exact total decide; what the quota leaves after this
   * write is shared out again as the stripes' ceilings.
   */
  private async rebalance(tx: Queries, tenant: string, stripe: number, bytes: number, objects: number): Promise<void> {
    await tx.run(LOCK_REBALANCE, [tenant]);
    const quota = await tx.run<{ quota_bytes: number | null }>(QUOTA_OF, [tenant, this.defaultQuotaBytes]);
    const own = quota.rows[0]?.quota_bytes;
    if (own === null || own === undefined) {
      await tx.run(CHARGE_STRIPE, [tenant, stripe, bytes, objects]);
      await tx.run(FORGET_CEILINGS, [tenant]);
      return;
    }
    const quotaBytes = Number(own);
    await tx.run(FILL_STRIPES, [tenant]);
    const { rows } = await tx.run<{ bytes: number; objects: number }>(LOCK_STRIPES, [tenant]);
    const total = { bytes: Number(rows[0]?.bytes ?? 0), objects: Number(rows[0]?.objects ?? 0) };
    if (total.bytes + bytes > quotaBytes) {
      const pending = await tx.run<{ pending: number }>(PENDING, [tenant]);
      const before: TenantUsage = {
        tenant,
        bytes: total.bytes,
        objects: total.objects,
        pendingUploadBytes: Number(pending.rows[0]?.pending ?? 0),
        quotaBytes,
      };
      throw quotaExceeded(before, bytes);
    }
    const share = Math.floor((quotaBytes - total.bytes - bytes) / USAGE_STRIPES);
    await tx.run(REBALANCE, [tenant, stripe, bytes, objects, share, quotaBytes]);
  }

  /**
   * Sets a tenant's own quota, or goes back to the default. Under the tenant's rebalance lock,
   * with the stripes' ceilings forgotten: the next growth rebalances against the new quota.
   */
  async setQuota(tenant: string, quotaBytes: number | null | 'default'): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(LOCK_REBALANCE, [tenant]);
      if (quotaBytes === 'default') await tx.run(CLEAR_QUOTA, [tenant]);
      else await tx.run(SET_QUOTA, [tenant, quotaBytes]);
      await tx.run(FORGET_CEILINGS, [tenant]);
    });
  }

  async quotaSource(tenant: string): Promise<'tenant' | 'default'> {
    const { rowCount } = await this.db.run(QUOTA_SOURCE, [tenant]);
    return rowCount ? 'tenant' : 'default';
  }
}
