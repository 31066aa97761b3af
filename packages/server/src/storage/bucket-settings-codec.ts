import type { BucketRecord } from '../backends/buckets.js';
import type { Bucket, BucketSettings } from './bucket-model.js';
import { EMPTY_BUCKET_SETTINGS } from './bucket-model.js';

/** A bucket as the domain sees it, from the index's record (whose settings are JSON text). */
export function bucketOf(record: BucketRecord): Bucket {
  return {
    name: record.name,
    owner: record.owner,
    createdAt: new Date(record.createdAt),
    quotaBytes: record.quotaBytes,
    settings: settingsOf(record.settings),
    bytes: record.bytes,
    objects: record.objects,
  };
}

/**
 * The settings from their stored JSON. A field a newer server added and this one does not know
 * is ignored here and never written back as anything else (see `encodeSettings`).
 */
export function settingsOf(text: string): BucketSettings {
  const stored = JSON.parse(text) as Partial<BucketSettings>;
  return { ...EMPTY_BUCKET_SETTINGS, ...stored };
}

export function encodeSettings(settings: BucketSettings): string {
  return JSON.stringify(settings);
}

/** Users the settings give something to (grants and policy statements), so they can list the bucket. */
export function granteesOf(settings: BucketSettings): string[] {
  const users = new Set<string>();
  for (const grant of settings.grants) if (grant.grantee.kind === 'user') users.add(grant.grantee.id);
  for (const statement of settings.policy?.statements ?? [])
    if (statement.effect === 'Allow' && statement.principals !== '*') for (const id of statement.principals) users.add(id);
  return [...users].sort();
}
