import type { FastifyReply } from 'fastify';
import type { AppContext } from '../http/context.js';
import type { BucketSettings } from '../storage/bucket-model.js';
import type { VersionRow } from '../storage/model.js';
import { md5Etag } from '../storage/object-etags.js';
import type { ObjectRef } from '../storage/object-ref.js';
import { DAY_MS } from '../storage/retention.js';
import { ownerXml } from './buckets.js';
import { S3Error, s3Errors } from './errors.js';
import { noncurrentDaysOf } from './lifecycle-xml.js';
import { uriEncode } from './sigv4.js';
import { xmlRoot } from './xml.js';
import { childrenOf, onlyChildren, optionalText } from './xml-fields.js';

const MAX_KEYS = 1000;
/** The window versioning turns on when neither the bucket nor the server has one. */
export const VERSIONING_DEFAULT_DAYS = 30;

/**
 * S3 versioning over retention: a bucket is versioned while it keeps replaced values (Enabled),
 * not versioned once its retention is 0 (Suspended), and never was when neither it nor the server
 * ever set one. Versions live for the retention window, not forever.
 */
export function versioningStatus(settings: BucketSettings, serverRetentionMs: number): 'Enabled' | 'Suspended' | undefined {
  const days = settings.retentionDays;
  if (days === undefined || days === null) return serverRetentionMs > 0 ? 'Enabled' : undefined;
  return days > 0 ? 'Enabled' : 'Suspended';
}

/**
 * PutBucketVersioning: Enabled keeps the bucket's (or the server's) window, or gives it the
 * lifecycle's NoncurrentDays, or VERSIONING_DEFAULT_DAYS; Suspended sets 0.
 */
export function applyVersioning(settings: BucketSettings, body: string, serverRetentionMs: number): BucketSettings {
  const root = childrenOf(xmlRoot(body, 'VersioningConfiguration'), s3Errors.malformedXml);
  onlyChildren(root, ['Status', 'MfaDelete'], s3Errors.malformedXml);
  if (optionalText(root.MfaDelete, s3Errors.malformedXml) === 'Enabled') throw s3Errors.notImplemented('MFA delete');
  const status = optionalText(root.Status, s3Errors.malformedXml);
  if (status === 'Suspended') return { ...settings, retentionDays: 0 };
  if (status !== 'Enabled') throw s3Errors.malformedXml();
  // A lifecycle NoncurrentVersionExpiration for the bucket names its window.
  const ruled = noncurrentDaysOf(settings.lifecycle);
  if (versioningStatus(settings, serverRetentionMs) === 'Enabled')
    return ruled === undefined ? settings : { ...settings, retentionDays: ruled };
  if (ruled !== undefined) return { ...settings, retentionDays: ruled };
  const serverDays = Math.ceil(serverRetentionMs / DAY_MS);
  return { ...settings, retentionDays: serverDays > 0 ? null : VERSIONING_DEFAULT_DAYS };
}

/** ListObjectVersions: the versions and delete markers under a prefix, by key, newest first; paged by key and version id markers. */
export async function listObjectVersions(ctx: AppContext, tenant: string, bucket: string, query: URLSearchParams) {
  const delimiter = query.get('delimiter') || undefined;
  const prefix = query.get('prefix') ?? '';
  const rawMax = query.get('max-keys');
  const maxKeys = rawMax === null ? MAX_KEYS : Number(rawMax);
  if (!Number.isInteger(maxKeys) || maxKeys < 0) throw s3Errors.invalidArgument('max-keys must be a whole number');
  const limit = Math.min(maxKeys, MAX_KEYS);
  const keyMarker = query.get('key-marker') || undefined;
  const versionIdMarker = (keyMarker && query.get('version-id-marker')) || undefined;
  const urlEncoded = query.get('encoding-type') === 'url';
  const encode = (text: string) => (urlEncoded ? uriEncode(text, false) : text);
  const entries: Entry[] =
    limit === 0
      ? []
      : delimiter === undefined
        ? (
            await ctx.retention.versionRows(tenant, bucket, {
              prefix,
              afterKey: keyMarker,
              afterVersionId: versionIdMarker,
              limit: limit + 1,
            })
          ).map((row) => ({ row }))
        : await foldedEntries(ctx, tenant, bucket, { prefix, delimiter, keyMarker, versionIdMarker, limit: limit + 1 });
  const page = entries.slice(0, limit);
  const versions: unknown[] = [];
  const markers: unknown[] = [];
  const prefixes: unknown[] = [];
  let previous = versionIdMarker !== undefined ? keyMarker : undefined;
  for (const entry of page) {
    if ('commonPrefix' in entry) {
      prefixes.push({ Prefix: encode(entry.commonPrefix) });
      continue;
    }
    const { row } = entry;
    // The newest of its key: the first of the key on this page, unless the page began inside the key.
    const latest = previous !== row.key;
    previous = row.key;
    const common = { Key: encode(row.key), VersionId: row.versionId, IsLatest: latest };
    if (row.deleteMarker) markers.push({ ...common, LastModified: iso(row.since), Owner: ownerXml(tenant) });
    else
      versions.push({
        ...common,
        LastModified: iso(row.row.lastModified),
        ETag: md5Etag(row.row),
        Size: row.row.size,
        StorageClass: 'STANDARD',
        Owner: ownerXml(tenant),
      });
  }
  const last = page.at(-1);
  const truncated = entries.length > limit;
  const body: Record<string, unknown> = {
    Name: bucket,
    Prefix: encode(prefix),
    KeyMarker: encode(keyMarker ?? ''),
    VersionIdMarker: versionIdMarker ?? '',
    MaxKeys: maxKeys,
    IsTruncated: truncated,
  };
  if (delimiter !== undefined) body.Delimiter = encode(delimiter);
  if (truncated && last) {
    // After a common prefix, the next page starts past every key under it.
    body.NextKeyMarker = encode('commonPrefix' in last ? last.commonPrefix : last.row.key);
    if ('row' in last) body.NextVersionIdMarker = last.row.versionId;
  }
  if (versions.length > 0) body.Version = versions;
  if (markers.length > 0) body.DeleteMarker = markers;
  if (prefixes.length > 0) body.CommonPrefixes = prefixes;
  if (urlEncoded) body.EncodingType = 'url';
  return body;
}

/** One entry of a listing: a version (or delete marker), or a common prefix standing for every key under it. */
type Entry = { readonly row: VersionRow } | { readonly commonPrefix: string };

/**
 * Up to `limit` entries of a listing with a delimiter: the versions of the keys with no delimiter
 * after the prefix, and a common prefix in place of the keys that have one, as ListObjectsV2
 * groups them. A common prefix costs one seek: the scan resumes past every key under it.
 */
async function foldedEntries(
  ctx: AppContext,
  tenant: string,
  type: string,
  options: { prefix: string; delimiter: string; keyMarker: string | undefined; versionIdMarker: string | undefined; limit: number },
): Promise<Entry[]> {
  const { prefix, delimiter, keyMarker, limit } = options;
  const commonPrefixOf = (key: string): string | undefined => {
    const at = key.indexOf(delimiter, prefix.length);
    return at < 0 ? undefined : key.slice(0, at + delimiter.length);
  };
  // Where the scan stands: past every key of a common prefix, and after a version of a key.
  let past: string | undefined;
  let after: { key: string; seq: number } | undefined;
  if (keyMarker !== undefined) {
    const markerPrefix = keyMarker.startsWith(prefix) ? commonPrefixOf(keyMarker) : undefined;
    // The last page ended with this common prefix (or inside it): go on past it.
    if (markerPrefix !== undefined) past = markerPrefix;
    else if (options.versionIdMarker !== undefined) {
      const found = await ctx.retention.findVersion({ tenant, type, key: keyMarker }, options.versionIdMarker);
      if (!found) throw s3Errors.invalidArgument(`${options.versionIdMarker} is not a version of ${keyMarker}`);
      after = { key: keyMarker, seq: found.seq };
    } else after = { key: keyMarker, seq: 0 };
  }
  const entries: Entry[] = [];
  while (entries.length < limit) {
    const want = limit - entries.length;
    const rows = await ctx.retention.versionRowsPast(tenant, type, { prefix, past, after, limit: want });
    let skipped = false;
    for (const row of rows) {
      const common = commonPrefixOf(row.key);
      if (common === undefined) {
        entries.push({ row });
        after = { key: row.key, seq: row.seq };
        continue;
      }
      entries.push({ commonPrefix: common });
      past = common;
      after = undefined;
      skipped = true;
      break;
    }
    if (!skipped && rows.length < want) break;
  }
  return entries;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * DeleteObject with a version id: that version goes for good, as on S3. When it was the current
 * value, or the key's newest delete marker, the newest version left becomes the key's state again
 * (a value is current once more, with its own version id; a delete marker leaves the key deleted).
 */
export async function deleteObjectVersion(ctx: AppContext, reply: FastifyReply, ref: ObjectRef, versionId: string) {
  const removed = await ctx.retention.removeVersion(ref, versionId);
  if (removed.outcome === 'missing') throw new S3Error('NoSuchVersion');
  reply.header('x-amz-version-id', versionId);
  if (removed.outcome === 'removed-marker') reply.header('x-amz-delete-marker', 'true');
  return reply.code(204).send();
}
