import type { TenantUsage } from '../backend.js';
import { quotaExceeded } from '../conditions.js';
import type { IndexDb, QuotaRoomTuple, UsageTuple } from './index-db.js';

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
   * Records a change of `bytes` and `objects`. Growth that would take the tenant past its quota
   * throws QuotaExceeded, rolling back the commit it is part of; shrinking is always allowed, so
   * a tenant over a lowered quota can still overwrite with less and delete.
   */
  charge(tenant: string, bytes: number, objects: number): void {
    if (bytes > 0) {
      const [stored, ownQuota, ownQuotaBytes] = this.index.statements.quotaRoom.get({ tenant }) as QuotaRoomTuple;
      const quotaBytes = ownQuota ? ownQuotaBytes : this.defaultQuotaBytes;
      if (quotaBytes !== null && (stored ?? 0) + bytes > quotaBytes) throw quotaExceeded(this.read(tenant), bytes);
    }
    if (bytes !== 0 || objects !== 0) this.index.statements.addUsage.run({ tenant, bytes, objects });
  }
}
