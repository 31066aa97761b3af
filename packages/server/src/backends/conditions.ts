import { fail } from '../errors.js';
import type { TenantUsage, WriteCondition } from './backend.js';

/** Throws 412 PreconditionFailed unless the current ETag (undefined: no object) meets the condition. */
export function assertCondition(currentEtag: string | undefined, condition: WriteCondition | undefined): void {
  if (!condition) return;
  if (condition.ifNoneMatch && currentEtag !== undefined)
    throw fail('PreconditionFailed', 'If-None-Match: * but an object exists at this key');
  if (condition.ifMatch) {
    const matches = currentEtag !== undefined && (condition.ifMatch.includes('*') || condition.ifMatch.includes(currentEtag));
    if (!matches)
      throw fail(
        'PreconditionFailed',
        currentEtag === undefined ? 'If-Match but no object exists at this key' : 'If-Match does not match the current ETag',
      );
  }
}

/** The ETag a precondition compares against: undefined when there is no row or it expired at `now`. */
export function visibleEtag(row: { sha256: string; expiresAt: number | null } | undefined, now: number): string | undefined {
  return row && (row.expiresAt === null || row.expiresAt > now) ? `"${row.sha256}"` : undefined;
}

/** QuotaExceeded for a write that would add `bytes` to the tenant's `usage`. */
export function quotaExceeded(usage: TenantUsage, bytes: number) {
  return fail(
    'QuotaExceeded',
    `Storing ${bytes} more bytes would take ${usage.tenant} to ${usage.bytes + bytes} of its ${usage.quotaBytes} byte quota; nothing was stored`,
  );
}
