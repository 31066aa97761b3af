import { isStorageType } from 'stowage-client/protocol';
import type { BucketService } from './bucket-service.js';

export const DAY_MS = 86_400_000;

/**
 * How long a tenant's rows of `type` keep their replaced values (ms; 0: not kept): a named
 * bucket's own `retentionDays`, or the server default (`STOWAGE_RETENTION`), which the built-in
 * buckets follow. Internal types (`.multipart`) keep none. The one statement of the rule: every
 * write, delete, copy, move and prefix operation asks it, as it asks the expiry.
 */
export function retentionOf(buckets: BucketService, defaultMs: number) {
  return async (tenant: string, type: string): Promise<number> => {
    if (type.startsWith('.')) return 0;
    if (isStorageType(type)) return defaultMs;
    const bucket = await buckets.find(type);
    // A bucket of that name that another user owns now is not the one these rows are in.
    const days = bucket?.owner === tenant ? bucket.settings.retentionDays : undefined;
    return days === undefined || days === null ? defaultMs : days * DAY_MS;
  };
}

/** The purge instant of what a write at `now` replaces, under a retention of `ms`; undefined when none is kept. */
export function purgeAfter(ms: number, now: number): number | undefined {
  return ms > 0 ? now + ms : undefined;
}
