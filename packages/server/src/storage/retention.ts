import { type BucketExpiryRule, isStorageType, prefixRetentionDays } from 'stowage-client/protocol';
import type { CountRule, PrefixRetention } from '../backends/purge-schedule.js';
import type { LifecycleRule } from './bucket-model.js';
import type { BucketService } from './bucket-service.js';

export const DAY_MS = 86_400_000;

/** How long a tenant's rows of a type keep their replaced values. */
export interface Retention {
  /** The window (ms; 0: nothing is kept). */
  readonly windowMs: number;
  /** Prefixes whose keys keep them for a time of their own while the window is above 0. */
  readonly rules: readonly PrefixRetention[];
  /**
   * The enabled rules as they stand, when one keeps versions by count (NewerNoncurrentVersions):
   * the sweeper weighs each on its own. Empty when none does.
   */
  readonly countRules: readonly CountRule[];
}

const NOT_KEPT: Retention = { windowMs: 0, rules: [], countRules: [] };

/**
 * How long a tenant's rows of `type` keep their replaced values: a named bucket's own
 * `retentionDays`, or the server default (`STOWAGE_RETENTION`), which the built-in buckets follow,
 * and the bucket's lifecycle rules that give the keys under a prefix a NoncurrentDays of their
 * own. Internal types (`.multipart`) keep none. The one statement of the rule: every write,
 * delete, copy, move and prefix operation asks it, as it asks the expiry.
 */
export function retentionOf(buckets: BucketService, defaultMs: number) {
  const serverDefault: Retention = { windowMs: defaultMs, rules: [], countRules: [] };
  return async (tenant: string, type: string): Promise<Retention> => {
    if (type.startsWith('.')) return NOT_KEPT;
    if (isStorageType(type)) return serverDefault;
    const bucket = await buckets.find(type);
    // A bucket of that name that another user owns now is not the one these rows are in.
    if (bucket?.owner !== tenant) return serverDefault;
    const days = bucket.settings.retentionDays;
    const rules = retentionRulesOf(bucket.settings.lifecycle);
    return {
      windowMs: days === undefined || days === null ? defaultMs : days * DAY_MS,
      rules: prefixRetentionDays(rules).map(({ prefix, days }) => ({ prefix, ms: days * DAY_MS })),
      countRules: sweeperRulesOf(rules),
    };
  };
}

/** The enabled rules, each for its prefix, when one of them keeps versions by count; none otherwise. */
function sweeperRulesOf(rules: readonly BucketExpiryRule[]): CountRule[] {
  const enabled = rules.filter((rule) => rule.enabled);
  if (!enabled.some((rule) => rule.newerVersions !== undefined)) return [];
  return enabled.map(({ prefix, days, newerVersions }) => ({ prefix, ms: days * DAY_MS, newer: newerVersions ?? 0 }));
}

/** The lifecycle rules with a NoncurrentDays as storage API v1 shows them (retentionRules): every key's too. */
export function retentionRulesOf(lifecycle: readonly LifecycleRule[]): BucketExpiryRule[] {
  return lifecycle.flatMap(({ id, prefix, enabled, noncurrentDays, noncurrentNewer }) =>
    noncurrentDays === undefined
      ? []
      : [{ id, prefix, enabled, days: noncurrentDays, ...(noncurrentNewer === undefined ? {} : { newerVersions: noncurrentNewer }) }],
  );
}
