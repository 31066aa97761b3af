import type { TenantUsage } from '../backends/backend.js';
import { fail } from '../errors.js';

/** QuotaExceeded for a write that would add `bytes` to the tenant's `usage`. */
export function quotaExceeded(usage: TenantUsage, bytes: number) {
  return fail(
    'QuotaExceeded',
    `Storing ${bytes} more bytes would take ${usage.tenant} to ${usage.bytes + bytes} of its ${usage.quotaBytes} byte quota; nothing was stored`,
  );
}
