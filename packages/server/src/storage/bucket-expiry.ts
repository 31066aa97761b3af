import { isStorageType } from 'stowage-client/protocol';
import type { LifecycleRule } from './bucket-model.js';
import type { BucketService } from './bucket-service.js';
import type { ObjectRef } from './object-ref.js';

const DAY_MS = 86_400_000;

/**
 * When an object written at `now` under `key` expires by lifecycle rules: the earliest of the
 * enabled rules whose prefix covers the key (as on S3); undefined when none does.
 */
export function lifecycleExpiry(rules: readonly LifecycleRule[], key: string, now: number): number | undefined {
  const days = rules.filter((rule) => rule.enabled && key.startsWith(rule.prefix)).map((rule) => rule.days);
  return days.length === 0 ? undefined : now + Math.min(...days) * DAY_MS;
}

/**
 * The expiry of a write into a named bucket, by its rules as the index holds them when the write
 * starts (so a write through an upload URL, which no lookup authorized, follows them too).
 */
export function bucketExpiryOf(buckets: BucketService) {
  return async (ref: ObjectRef, now: number): Promise<number | undefined> => {
    if (isStorageType(ref.type) || ref.type.startsWith('.')) return undefined;
    const bucket = await buckets.find(ref.type);
    // A bucket of that name that another user owns now is not the one this row is in.
    if (bucket?.owner !== ref.tenant) return undefined;
    return lifecycleExpiry(bucket.settings.lifecycle, ref.key, now);
  };
}
