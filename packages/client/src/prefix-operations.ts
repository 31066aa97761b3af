import { bucketSegment } from './buckets.js';
import { BadRequestError } from './errors.js';
import {
  type BucketName,
  type DeleteManyItem,
  type DeleteManyResult,
  type DeletePrefixResult,
  MAX_DELETE_MANY_KEYS,
  type PrefixUsage,
  Routes,
  STORAGE_TYPES,
  type StorageType,
} from './protocol.js';
import type { Transport } from './transport.js';

/** Objects and bytes. */
export interface UsageCount {
  readonly objects: number;
  readonly bytes: number;
}

/** Usage under a prefix in every storage type: the sum, and each type's share. */
export interface PrefixUsageSummary extends UsageCount {
  readonly prefix: string;
  readonly types: Readonly<Record<StorageType, UsageCount>>;
}

interface Call {
  storageType: BucketName;
  signal: AbortSignal | undefined;
}

/**
 * `POST {type}/delete_prefix`. The server's delete is idempotent (calling again finishes an
 * interrupted one), so it is retried after a lost response too; the counts are then those of
 * the attempt that answered.
 */
export async function deletePrefix(transport: Transport, prefix: string, all: boolean, call: Call): Promise<DeletePrefixResult> {
  if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');
  if (prefix === '' && !all)
    throw new BadRequestError('Deleting every key of a storage type or bucket needs { all: true }', { code: 'ConfirmationRequired' });
  const query = new URLSearchParams({ prefix });
  if (all) query.set('all', 'true');
  return transport.send(
    {
      method: 'POST',
      url: `/${bucketSegment(call.storageType)}/${Routes.deletePrefix}?${query}`,
      signal: call.signal,
      retry: transport.options.retry.alsoRetrying('POST'),
    },
    async (response) => (await response.body.json()) as DeletePrefixResult,
  );
}

/**
 * `POST {type}/delete_many`, in requests of at most {@link MAX_DELETE_MANY_KEYS} keys whose
 * results are merged in order. Each request is retried like a DELETE: after a lost response, a
 * key the lost attempt deleted comes back `NoSuchKey`, so on such a retry `NoSuchKey` counts as
 * deleted (as `delete` does); `bytes` then holds only what the answering attempt freed.
 */
export async function deleteMany(transport: Transport, keys: readonly string[], call: Call): Promise<DeleteManyResult> {
  if (!Array.isArray(keys)) throw new TypeError('keys must be an array of strings');
  const results: DeleteManyItem[] = [];
  let bytes = 0;
  for (let start = 0; start < keys.length; start += MAX_DELETE_MANY_KEYS) {
    const batch = keys.slice(start, start + MAX_DELETE_MANY_KEYS);
    const body = new TextEncoder().encode(JSON.stringify({ keys: batch }));
    const answer = await transport.send(
      {
        method: 'POST',
        url: `/${bucketSegment(call.storageType)}/${Routes.deleteMany}`,
        headers: { 'content-type': 'application/json' },
        body: { create: () => body, replayable: true, length: body.length },
        signal: call.signal,
        retry: transport.options.retry.alsoRetrying('POST'),
      },
      async (response) => {
        const result = (await response.body.json()) as DeleteManyResult;
        if (!response.earlierAttemptMayHaveApplied) return result;
        const settled = result.results.map(
          (item): DeleteManyItem => (item.deleted || item.code !== 'NoSuchKey' ? item : { key: item.key, deleted: true }),
        );
        return { ...result, results: settled };
      },
    );
    results.push(...answer.results);
    bytes += answer.bytes;
  }
  return { deleted: results.filter((item) => item.deleted).length, bytes, results };
}

/** `GET {type}/usage?prefix=P`. */
export async function prefixUsage(transport: Transport, prefix: string, call: Call): Promise<PrefixUsage> {
  const query = new URLSearchParams({ prefix });
  return transport.send(
    { method: 'GET', url: `/${bucketSegment(call.storageType)}/${Routes.usage}?${query}`, signal: call.signal },
    async (response) => (await response.body.json()) as PrefixUsage,
  );
}

/** Usage under `prefix` in each storage type (one request per type, in parallel), and the sum. */
export async function prefixUsageOfEveryType(
  transport: Transport,
  prefix: string,
  signal: AbortSignal | undefined,
): Promise<PrefixUsageSummary> {
  const each = await Promise.all(STORAGE_TYPES.map((storageType) => prefixUsage(transport, prefix, { storageType, signal })));
  const types = Object.fromEntries(each.map((usage, i) => [STORAGE_TYPES[i], { objects: usage.objects, bytes: usage.bytes }])) as Record<
    StorageType,
    UsageCount
  >;
  return {
    prefix,
    objects: each.reduce((sum, usage) => sum + usage.objects, 0),
    bytes: each.reduce((sum, usage) => sum + usage.bytes, 0),
    types,
  };
}
