import type { FastifyReply } from 'fastify';
import type { AppContext } from '../http/context.js';
import type { BucketSettings } from '../storage/bucket-model.js';
import type { VersionRow } from '../storage/model.js';
import { md5Etag } from '../storage/object-etags.js';
import type { ObjectRef } from '../storage/object-ref.js';
import { DAY_MS } from '../storage/retention.js';
import { ownerXml } from './buckets.js';
import { S3Error, s3Errors } from './errors.js';
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

/** PutBucketVersioning: Enabled keeps the bucket's (or the server's) window, or gives it VERSIONING_DEFAULT_DAYS; Suspended sets 0. */
export function applyVersioning(settings: BucketSettings, body: string, serverRetentionMs: number): BucketSettings {
  const root = childrenOf(xmlRoot(body, 'VersioningConfiguration'), s3Errors.malformedXml);
  onlyChildren(root, ['Status', 'MfaDelete'], s3Errors.malformedXml);
  if (optionalText(root.MfaDelete, s3Errors.malformedXml) === 'Enabled') throw s3Errors.notImplemented('MFA delete');
  const status = optionalText(root.Status, s3Errors.malformedXml);
  if (status === 'Suspended') return { ...settings, retentionDays: 0 };
  if (status !== 'Enabled') throw s3Errors.malformedXml();
  if (versioningStatus(settings, serverRetentionMs) === 'Enabled') return settings;
  const serverDays = Math.ceil(serverRetentionMs / DAY_MS);
  return { ...settings, retentionDays: serverDays > 0 ? null : VERSIONING_DEFAULT_DAYS };
}

/** ListObjectVersions: the versions and delete markers under a prefix, by key, newest first; paged by key and version id markers. */
export async function listObjectVersions(ctx: AppContext, tenant: string, bucket: string, query: URLSearchParams) {
  if (query.get('delimiter')) throw s3Errors.notImplemented('ListObjectVersions with a delimiter');
  const prefix = query.get('prefix') ?? '';
  const rawMax = query.get('max-keys');
  const maxKeys = rawMax === null ? MAX_KEYS : Number(rawMax);
  if (!Number.isInteger(maxKeys) || maxKeys < 0) throw s3Errors.invalidArgument('max-keys must be a whole number');
  const limit = Math.min(maxKeys, MAX_KEYS);
  const keyMarker = query.get('key-marker') || undefined;
  const versionIdMarker = (keyMarker && query.get('version-id-marker')) || undefined;
  const urlEncoded = query.get('encoding-type') === 'url';
  const encode = (text: string) => (urlEncoded ? uriEncode(text, false) : text);
  const rows =
    limit === 0
      ? []
      : await ctx.retention.versionRows(tenant, bucket, { prefix, afterKey: keyMarker, afterVersionId: versionIdMarker, limit: limit + 1 });
  const page = rows.slice(0, limit);
  const versions: unknown[] = [];
  const markers: unknown[] = [];
  page.forEach((row, i) => {
    // The newest of its key: the first of the key on this page, unless the page began inside the key.
    const previous = i === 0 ? (versionIdMarker !== undefined ? keyMarker : undefined) : page[i - 1]?.key;
    const latest = previous !== row.key;
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
  });
  const last: VersionRow | undefined = page.at(-1);
  const body: Record<string, unknown> = {
    Name: bucket,
    Prefix: encode(prefix),
    KeyMarker: encode(keyMarker ?? ''),
    VersionIdMarker: versionIdMarker ?? '',
    MaxKeys: maxKeys,
    IsTruncated: rows.length > limit,
  };
  if (rows.length > limit && last) {
    body.NextKeyMarker = encode(last.key);
    body.NextVersionIdMarker = last.versionId;
  }
  if (versions.length > 0) body.Version = versions;
  if (markers.length > 0) body.DeleteMarker = markers;
  if (urlEncoded) body.EncodingType = 'url';
  return body;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * DeleteObject with a version id: a noncurrent version (or a delete marker that is not the newest
 * of its key) goes for good, as on S3. The current value and a key's newest delete marker are
 * NotImplemented: S3 would make the version before them current, which a restore does here
 * (storage API v1's POST /{type}/restore).
 */
export async function deleteObjectVersion(ctx: AppContext, reply: FastifyReply, ref: ObjectRef, versionId: string) {
  const outcome = await ctx.retention.removeVersion(ref, versionId);
  if (outcome === 'current') throw s3Errors.notImplemented('DeleteObject of the current version (restore an earlier one instead)');
  if (outcome === 'latest-marker') throw s3Errors.notImplemented('DeleteObject of the newest delete marker (restore the key instead)');
  if (outcome === 'missing') throw new S3Error('NoSuchVersion');
  reply.header('x-amz-version-id', versionId);
  if (outcome === 'removed-marker') reply.header('x-amz-delete-marker', 'true');
  return reply.code(204).send();
}
