import type { BucketName, BucketSettingsStore } from '../backends/bucket-settings.js';
import type { CorsRule } from './cors-rules.js';

/**
 * The CORS configurations of tenants' buckets: kept in the index as JSON, so each server of a
 * deployment answers by the same rules from the moment one of them stored them.
 */
export class BucketCors {
  constructor(private readonly store: BucketSettingsStore) {}

  /** The bucket's rules; undefined when it has no configuration. */
  async rules(bucket: BucketName): Promise<readonly CorsRule[] | undefined> {
    const stored = await this.store.findCors(bucket);
    return stored === undefined ? undefined : (JSON.parse(stored) as CorsRule[]);
  }

  /** Replaces the bucket's configuration; the rules were validated by the front that took them. */
  async set(bucket: BucketName, rules: readonly CorsRule[]): Promise<void> {
    await this.store.setCors(bucket, JSON.stringify(rules));
  }

  async remove(bucket: BucketName): Promise<void> {
    await this.store.setCors(bucket, null);
  }
}
