import { fail } from '../errors.js';
import { isNamedBucket } from './buckets.js';

/**
 * How both indexes keep a named bucket's bytes and objects: the transaction that changes rows of
 * (owner, name) also runs `UPDATE buckets SET bytes = bytes + b, objects = objects + o WHERE name
 * AND owner RETURNING bytes, quota_bytes`, before the tenant's usage row. That update is what
 * refuses a write into a bucket that does not exist (or that another user owns now), what holds
 * the bucket's quota, and, by its row lock, what orders a write with a removal of the bucket
 * (which locks the row first): a write either commits first, and the removal sees its object, or
 * waits and finds no bucket. So a write that stores a row touches the bucket's row even when its
 * sizes do not change.
 */

/** What one operation changes of one type's rows: bytes and objects, and whether it stores a row there. */
export interface UsageChange {
  readonly type: string;
  readonly bytes: number;
  readonly objects: number;
  /** The operation writes a row of `type`: a named bucket must exist, whatever the sizes. */
  readonly stores?: boolean | undefined;
}

/**
 * The named buckets among `changes`, one change each (a move within a bucket nets out), in name
 * order: the order every transaction takes bucket rows in, so two cannot deadlock on them.
 */
export function mergeBuckets(changes: readonly UsageChange[]): UsageChange[] {
  const merged = new Map<string, { type: string; bytes: number; objects: number; stores: boolean }>();
  for (const change of changes) {
    if (!isNamedBucket(change.type)) continue;
    const into = merged.get(change.type) ?? { type: change.type, bytes: 0, objects: 0, stores: false };
    into.bytes += change.bytes;
    into.objects += change.objects;
    into.stores ||= change.stores === true;
    merged.set(change.type, into);
  }
  return [...merged.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** What the bucket row's update returns: the new total and the quota. */
export interface BucketChargeRow {
  readonly bytes: number;
  readonly quota_bytes: number | null;
}

/** Whether `change` needs the bucket's row updated (and so locked). */
export function touchesBucket(change: UsageChange): boolean {
  return change.bytes !== 0 || change.objects !== 0 || change.stores === true;
}

/**
 * Judges a bucket row's update for `change`: `row` is what it returned (undefined: no bucket of
 * that name and owner). Removals from a missing bucket pass; growth and new rows do not
 * (NoSuchBucket), nor growth past the bucket's quota (QuotaExceeded). Throwing rolls back the
 * whole transaction.
 */
export function checkBucketCharge(change: UsageChange, row: BucketChargeRow | undefined): void {
  if (!row) {
    if (change.stores || change.bytes > 0 || change.objects > 0) throw noSuchBucket(change.type);
    return;
  }
  if (change.bytes > 0 && row.quota_bytes !== null && row.bytes > row.quota_bytes)
    throw bucketQuotaExceeded(change.type, row, change.bytes);
}

/** The write names a bucket that does not exist, or one its tenant does not own. */
export function noSuchBucket(name: string) {
  return fail('NoSuchBucket', `No bucket named ${name} exists for this write; nothing was stored`);
}

/** QuotaExceeded for a write that took bucket `name` to `row.bytes` (with `bytes` more) past its quota. */
export function bucketQuotaExceeded(name: string, row: BucketChargeRow, bytes: number) {
  return fail(
    'QuotaExceeded',
    `Storing ${bytes} more bytes would take bucket ${name} to ${row.bytes} of its ${row.quota_bytes} byte quota; nothing was stored`,
  );
}
