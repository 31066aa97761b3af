import { isStorageType } from 'stowage-client/protocol';
import type { LifecycleRule } from './bucket-model.js';
import type { BucketService } from './bucket-service.js';

const DAY_MS = 86_400_000;

/** The enabled lifecycle rules whose prefix covers `key`: those each action of a key asks. */
export function rulesCovering(rules: readonly LifecycleRule[], key: string): LifecycleRule[] {
  return rules.filter((rule) => rule.enabled && key.startsWith(rule.prefix));
}

/**
 * When an object written at `now` under `key` expires by lifecycle rules: the earliest of the
 * enabled rules whose prefix covers the key (as on S3); undefined when none does.
 */
export function lifecycleExpiry(rules: readonly LifecycleRule[], key: string, now: number): number | undefined {
  const days = rulesCovering(rules, key).flatMap((rule) => (rule.days !== null ? [rule.days] : []));
  return days.length === 0 ? undefined : now + Math.min(...days) * DAY_MS;
}

/** When an incomplete multipart upload goes, and the lifecycle rule that says so (none: the server's lifetime). */
export interface UploadExpiry {
  readonly expiresAt: number;
  readonly ruleId: string | undefined;
}

/**
 * When a multipart upload begun at `now` under `key` is removed unless completed or aborted:
 * after `lifetimeMs` (the server's), or sooner by the shortest AbortIncompleteMultipartUpload of
 * the enabled rules whose prefix covers the key.
 */
export function incompleteUploadExpiry(rules: readonly LifecycleRule[], key: string, now: number, lifetimeMs: number): UploadExpiry {
  let expiry: UploadExpiry = { expiresAt: now + lifetimeMs, ruleId: undefined };
  for (const rule of rulesCovering(rules, key)) {
    if (rule.abortIncompleteDays === undefined) continue;
    const expiresAt = now + rule.abortIncompleteDays * DAY_MS;
    // A rule as long as the server's lifetime is still the rule that says when (S3 names it).
    if (expiresAt < expiry.expiresAt || (expiresAt === expiry.expiresAt && expiry.ruleId === undefined))
      expiry = { expiresAt, ruleId: rule.id };
  }
  return expiry;
}

/**
 * The lifecycle rules of a named bucket as the index holds them when a write starts (so a write
 * through an upload URL, which no lookup authorized, follows them too); none for other types.
 */
export function lifecycleRulesOf(buckets: BucketService) {
  return async (tenant: string, type: string): Promise<readonly LifecycleRule[]> => {
    if (isStorageType(type) || type.startsWith('.')) return [];
    const bucket = await buckets.find(type);
    // A bucket of that name that another user owns now is not the one these rows are in.
    return bucket?.owner === tenant ? bucket.settings.lifecycle : [];
  };
}
