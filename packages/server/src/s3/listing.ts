import type { AppContext } from '../http/context.js';
import { keyAfter, type ListEntry, prefixUpperBound } from '../storage/model.js';
import { md5Etag } from '../storage/object-etags.js';
import { ownerXml } from './buckets.js';
import { s3Errors } from './errors.js';
import { uriEncode } from './sigv4.js';

const MAX_KEYS = 1000;

interface ListQuery {
  /** Whose objects these are: named in each entry's <Owner> when `withOwner`. */
  readonly tenant: string;
  readonly withOwner: boolean;
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly maxKeys: number;
  readonly urlEncoded: boolean;
}

/** ListObjectsV2: continuation tokens are the resume point of the index scan, opaque to clients. */
export async function listObjectsV2(
  ctx: AppContext,
  tenant: string,
  bucket: string,
  query: URLSearchParams,
): Promise<Record<string, unknown>> {
  const list = listQuery(query, tenant, query.get('fetch-owner') === 'true');
  // An empty token is no token: the first page, as S3 answers it.
  const token = query.get('continuation-token') || null;
  const startAfter = query.get('start-after') ?? undefined;
  const start =
    token !== null
      ? decodeToken(token, list.prefix)
      : startAfter
        ? later(Buffer.from(list.prefix), keyAfter(Buffer.from(startAfter)))
        : Buffer.from(list.prefix);
  const page = await scan(ctx, tenant, bucket, list, start);
  const body: Record<string, unknown> = {
    Name: bucket,
    Prefix: encode(list.prefix, list),
    MaxKeys: list.maxKeys,
    KeyCount: page.entries.length,
    IsTruncated: page.next !== undefined,
    ...entriesXml(page.entries, list),
  };
  if (list.delimiter !== undefined) body.Delimiter = encode(list.delimiter, list);
  if (token !== null) body.ContinuationToken = token;
  if (page.next) body.NextContinuationToken = page.next.toString('base64url');
  if (startAfter !== undefined) body.StartAfter = encode(startAfter, list);
  if (list.urlEncoded) body.EncodingType = 'url';
  return body;
}

/** ListObjects (v1): paged by marker, the last key or common prefix of the previous page. */
export async function listObjectsV1(
  ctx: AppContext,
  tenant: string,
  bucket: string,
  query: URLSearchParams,
): Promise<Record<string, unknown>> {
  // ListObjects (v1) names every object's owner, as S3 does.
  const list = listQuery(query, tenant, true);
  const marker = query.get('marker') ?? '';
  let start: Buffer = Buffer.from(list.prefix);
  if (marker !== '') {
    const bytes = Buffer.from(marker);
    // A marker that is a common prefix resumes past everything under it.
    const past =
      list.delimiter !== undefined && marker.endsWith(list.delimiter) ? (prefixUpperBound(bytes) ?? keyAfter(bytes)) : keyAfter(bytes);
    start = later(start, past);
  }
  const page = await scan(ctx, tenant, bucket, list, start);
  const last = page.entries.at(-1);
  // Top-level Prefix is sent as it is: v1 clients (botocore) decode Marker, NextMarker, Delimiter,
  // keys and common prefixes, not it.
  const body: Record<string, unknown> = {
    Name: bucket,
    Prefix: list.prefix,
    Marker: encode(marker, list),
    MaxKeys: list.maxKeys,
    IsTruncated: page.next !== undefined,
    ...entriesXml(page.entries, list),
  };
  if (list.delimiter !== undefined) body.Delimiter = encode(list.delimiter, list);
  if (page.next && last) body.NextMarker = encode(last.kind === 'folder' ? last.prefix : last.key, list);
  if (list.urlEncoded) body.EncodingType = 'url';
  return body;
}

function listQuery(query: URLSearchParams, tenant: string, withOwner: boolean): ListQuery {
  const raw = query.get('max-keys');
  const maxKeys = raw === null ? MAX_KEYS : Number(raw);
  if (!Number.isInteger(maxKeys) || maxKeys < 0) throw s3Errors.invalidArgument('max-keys must be a non-negative integer');
  const encoding = query.get('encoding-type');
  if (encoding !== null && encoding !== 'url') throw s3Errors.invalidArgument('Invalid Encoding Method specified in Request');
  const delimiter = query.get('delimiter');
  return {
    tenant,
    withOwner,
    prefix: query.get('prefix') ?? '',
    delimiter: delimiter === null || delimiter === '' ? undefined : delimiter,
    maxKeys: Math.min(maxKeys, MAX_KEYS),
    urlEncoded: encoding === 'url',
  };
}

async function scan(ctx: AppContext, tenant: string, bucket: string, list: ListQuery, start: Buffer) {
  if (list.maxKeys === 0) return { entries: [] as ListEntry[], next: undefined };
  return ctx.objects.listFolderPage(tenant, bucket, { prefix: list.prefix, delimiter: list.delimiter, start, limit: list.maxKeys });
}

function entriesXml(entries: ListEntry[], list: ListQuery): Record<string, unknown> {
  const contents: unknown[] = [];
  const prefixes: unknown[] = [];
  for (const entry of entries) {
    if (entry.kind === 'folder') prefixes.push({ Prefix: encode(entry.prefix, list) });
    else {
      const row = entry.row;
      contents.push({
        Key: encode(entry.key, list),
        LastModified: new Date(row?.lastModified ?? 0).toISOString(),
        ETag: row ? md5Etag(row) : '""',
        Size: row?.size ?? 0,
        StorageClass: 'STANDARD',
        ...(list.withOwner && { Owner: ownerXml(list.tenant) }),
      });
    }
  }
  const body: Record<string, unknown> = {};
  if (contents.length > 0) body.Contents = contents;
  if (prefixes.length > 0) body.CommonPrefixes = prefixes;
  return body;
}

function decodeToken(token: string, prefix: string): Buffer {
  const start = Buffer.from(token, 'base64url');
  if (token === '' || !start.subarray(0, Buffer.byteLength(prefix)).equals(Buffer.from(prefix)))
    throw s3Errors.invalidArgument('The continuation token provided is incorrect');
  return start;
}

function later(a: Buffer, b: Buffer): Buffer {
  return Buffer.compare(a, b) >= 0 ? a : b;
}

function encode(text: string, list: ListQuery): string {
  return list.urlEncoded ? uriEncode(text, false) : text;
}
