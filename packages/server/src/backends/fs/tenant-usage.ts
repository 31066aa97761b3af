import type { Statement } from 'better-sqlite3';
import type { TenantUsage } from '../backend.js';
import { type BucketChargeRow, checkBucketCharge, mergeBuckets, touchesBucket, type UsageChange } from '../bucket-usage.js';
import { quotaExceeded } from '../conditions.js';
import type { IndexDb, QuotaRoomTuple, UsageTuple } from './index-db.js';

/** A tenant's quota as the `tenants` table holds it: a row overrides the default, NULL is unlimited. */
export type QuotaOverride = { quotaBytes: number | null } | undefined;

/**
 * Each tenant's stored bytes and object count, kept in the index beside the objects they count,
 * and each named bucket's (its row in `buckets`). `charge` runs inside the transaction that
 * changes `objects`, so the two never disagree, and the quota checks see every commit before it:
 * two writes racing for the last bytes of a quota cannot both get in.
 */
export class TenantLedger {
  private readonly chargeBucket: Statement<[bytes: number, objects: number, name: string, owner: string]>;

  constructor(
    private readonly index: IndexDb,
    /** Quota of tenants without a row of their own; null for unlimited. */
    private readonly defaultQuotaBytes: number | null,
  ) {
    this.chargeBucket = index.db.prepare<[number, number, string, string]>(
      'UPDATE buckets SET bytes = bytes + ?, objects = objects + ? WHERE name = ? AND owner = ? RETURNING bytes, quota_bytes',
    );
  }

  read(tenant: string): TenantUsage {
    const [bytes, objects, pendingUploadBytes, ownQuota, quotaBytes] = this.index.statements.usageRead.get({ tenant }) as UsageTuple;
    return {
      tenant,
      bytes: bytes ?? 0,
      objects: objects ?? 0,
      pendingUploadBytes,
      quotaBytes: ownQuota ? quotaBytes : this.defaultQuotaBytes,
    };
  }

  /**
   * Records a change of `bytes` and `objects` of the tenant's rows of `type`. Growth that would
   * take the tenant past its quota, or a named bucket past its own, throws QuotaExceeded, rolling
   * back the commit it is part of; shrinking is always allowed, so a tenant over a lowered quota
   * can still overwrite with less and delete. A named bucket that does not exist (or that another
   * user owns) takes no growth and no new row: NoSuchBucket.
   */
  charge(tenant: string, type: string, bytes: number, objects: number, stores = false): void {
    this.chargeAll(tenant, [{ type, bytes, objects, stores }]);
  }

  /**
   * Records one operation's changes of several types of one tenant (a move, a write that releases
   * other rows): each named bucket's own, then the tenant's net change, which alone is held
   * against the tenant's quota (a move within a tenant is no growth).
   */
  chargeAll(tenant: string, changes: readonly UsageChange[]): void {
    for (const change of mergeBuckets(changes)) this.chargeNamedBucket(tenant, change);
    const bytes = changes.reduce((total, change) => total + change.bytes, 0);
    const objects = changes.reduce((total, change) => total + change.objects, 0);
    if (bytes > 0) {
      const [stored, ownQuota, ownQuotaBytes] = this.index.statements.quotaRoom.get({ tenant }) as QuotaRoomTuple;
      const quotaBytes = ownQuota ? ownQuotaBytes : this.defaultQuotaBytes;
      if (quotaBytes !== null && (stored ?? 0) + bytes > quotaBytes) throw quotaExceeded(this.read(tenant), bytes);
    }
    if (bytes !== 0 || objects !== 0) this.index.statements.addUsage.run({ tenant, bytes, objects });
  }

  /** Updates a named bucket's row for `change` (see bucket-usage.ts). */
  private chargeNamedBucket(owner: string, change: UsageChange): void {
    if (!touchesBucket(change)) return;
    const row = this.chargeBucket.get(change.bytes, change.objects, change.type, owner) as BucketChargeRow | undefined;
    checkBucketCharge(change, row);
  }
}
