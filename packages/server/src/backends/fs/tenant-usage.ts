import type { TenantUsage } from '../backend.js';
import { quotaExceeded } from '../conditions.js';
import type { IndexDb } from './index-db.js';

/** A tenant's quota as the `tenants` table holds it: a row overrides the default, NULL is unlimited. */
export type QuotaOverride = { quotaBytes: number | null } | undefined;

/**
 * Each tenant's stored bytes and object count, kept in the index beside the objects they count.
 * `charge` runs inside the transaction that changes `objects`, so the two never disagree, and
 * the quota check sees every commit before it: two writes racing for the last bytes of a quota
 * cannot both get in.
 */
export class TenantLedger {
  constructor(
    private readonly index: IndexDb,
    /** Quota of tenants without a row of their own; null for unlimited. */
    private readonly defaultQuotaBytes: number | null,
  ) {}

  read(tenant: string): TenantUsage {
    const { usageOf, pendingUploadBytes } = this.index.statements;
    const row = usageOf.get(tenant) as { bytes: number; objects: number } | undefined;
    return {
      tenant,
      bytes: row?.bytes ?? 0,
      objects: row?.objects ?? 0,
      pendingUploadBytes: pendingUploadBytes.get(tenant) as number,
      quotaBytes: this.quotaOf(tenant),
    };
  }

  /**
   * Records a change of `bytes` and `objects`. Growth that would take the tenant past its quota
   * throws QuotaExceeded, rolling back the commit it is part of; shrinking is always allowed, so
   * a tenant over a lowered quota can still overwrite with less and delete.
   */
  charge(tenant: string, bytes: number, objects: number): void {
    if (bytes > 0) {
      const usage = this.read(tenant);
      if (usage.quotaBytes !== null && usage.bytes + bytes > usage.quotaBytes) throw quotaExceeded(usage, bytes);
    }
    if (bytes !== 0 || objects !== 0) this.index.statements.addUsage.run({ tenant, bytes, objects });
  }

  private quotaOf(tenant: string): number | null {
    const override = this.index.statements.tenantQuota.get(tenant) as QuotaOverride;
    return override ? override.quotaBytes : this.defaultQuotaBytes;
  }
}
