// What S3 object requests carry besides their body, read once for every operation: headers
// refused, metadata, content type, write and copy-source conditions, and the copy source.
import type { FastifyRequest } from 'fastify';
import { decodeMetadataValue } from 'stowage-client/metadata';
import type { AppContext } from '../http/context.js';
import { isStorageTypeOrBucketName } from '../storage/bucket-names.js';
import { parseContentType } from '../storage/media-type.js';
import { isMetadataName, metadataOverLimit } from '../storage/metadata-limits.js';
import { type ObjectAcl, type ObjectAttributes, type ObjectInfo, type WriteCondition, withChosen } from '../storage/model.js';
import { md5Etag } from '../storage/object-etags.js';
import type { ObjectRef } from '../storage/object-ref.js';
import { evaluateRead, readPreconditionsOf, writePreconditionsOf } from '../storage/preconditions.js';
import { S3Error, s3Errors } from './errors.js';
import { single } from './header-value.js';

export const META = 'x-amz-meta-';

/** Headers of a PutObject that S3 stores and returns, besides Content-Type and Cache-Control/Content-Disposition. */
const STORED_S3_HEADERS = ['content-encoding', 'content-language', 'expires'] as const;

/**
 * Headers asking for what this endpoint does not do: refused (NotImplemented) rather than
 * accepted and dropped. A private canned ACL (acl.ts) and the STANDARD storage class are what it does anyway.
 */
const UNSUPPORTED_HEADERS = [
  'x-amz-tagging',
  'x-amz-tagging-directive',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-object-lock-mode',
  'x-amz-object-lock-retain-until-date',
  'x-amz-object-lock-legal-hold',
  'x-amz-website-redirect-location',
];

/** Refuses a write that asks for tagging, encryption, object lock or another storage class (ACLs are the router's: acl.ts). */
export function assertSupportedWrite(request: Pick<FastifyRequest, 'headers'>): void {
  for (const name of UNSUPPORTED_HEADERS) if (request.headers[name] !== undefined) throw s3Errors.notImplemented(`The ${name} header`);
  const storageClass = single(request.headers['x-amz-storage-class']);
  if (storageClass !== undefined && storageClass !== 'STANDARD')
    throw new S3Error('InvalidStorageClass', 'The storage class you specified is not valid');
}

/**
 * The x-amz-copy-source-if-* conditions of CopyObject and UploadPartCopy, as a check of the
 * source that the copy runs on the very version it copies (the row its transaction reads, or
 * the row whose bytes a range copy reads): a source replaced after the request came is judged as
 * it is then. A copy has no 304: a source its conditions would not serve is 412. Undefined when
 * the request has none.
 */
export function copySourceCheck(request: FastifyRequest): ((source: ObjectInfo) => void) | undefined {
  const header = (name: string) => single(request.headers[`x-amz-copy-source-${name}`]);
  if (!['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'].some((name) => header(name) !== undefined))
    return undefined;
  return (source) => {
    if (conditionVerdict(header, source) !== undefined) throw s3Errors.preconditionFailed();
  };
}

/**
 * An If-Match list in the index's terms: the index checks ETags atomically with the commit, and
 * knows the sha256 ETag only. If the object's S3 ETag is in the list, its sha256 ETag is added;
 * the commit then still fails if the object changed since this look.
 */
async function indexEtags(ctx: AppContext, ref: ObjectRef, ifMatch: readonly string[]): Promise<readonly string[]> {
  if (ifMatch.includes('*')) return ifMatch;
  const info = await ctx.objects.find(ref);
  return info && ifMatch.includes(md5Etag(info)) ? [...ifMatch, info.etag] : ifMatch;
}

/** x-amz-meta-*, Cache-Control and Content-Disposition of a write. S3 clients send UTF-8 bytes as is. */
export function s3AttributesOf(request: Pick<FastifyRequest, 'headers'>, acl?: ObjectAcl): ObjectAttributes | null {
  const metadata: Record<string, string> = {};
  for (const [header, raw] of Object.entries(request.headers)) {
    if (!header.startsWith(META) || raw === undefined) continue;
    const name = header.slice(META.length);
    if (!isMetadataName(name)) throw s3Errors.invalidArgument(`Metadata name "${name}" must be 1-64 of a-z 0-9 - _`);
    const text = Buffer.from(Array.isArray(raw) ? raw.join(',') : raw, 'latin1').toString('utf8');
    metadata[name] = decodeMetadataValue(text) ?? text;
  }
  if (metadataOverLimit(metadata) !== undefined)
    throw new S3Error('MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.');
  const cacheControl = single(request.headers['cache-control']) ?? null;
  const contentDisposition = single(request.headers['content-disposition']) ?? null;
  const s3Headers: Record<string, string> = {};
  for (const name of STORED_S3_HEADERS) {
    const value = single(request.headers[name]);
    // aws-chunked is how the body travelled, not how the object is encoded.
    const stored =
      name === 'content-encoding'
        ? value
            ?.split(',')
            .map((item) => item.trim())
            .filter((item) => item !== 'aws-chunked')
            .join(', ')
        : value;
    if (stored) s3Headers[name] = stored;
  }
  const hasHeaders = Object.keys(s3Headers).length > 0;
  if (Object.keys(metadata).length === 0 && cacheControl === null && contentDisposition === null && !hasHeaders && !acl) return null;
  const attributes: ObjectAttributes = { metadata, cacheControl, contentDisposition };
  return hasHeaders || acl ? withChosen(attributes, { s3Headers: hasHeaders ? s3Headers : undefined, acl }) : attributes;
}

export function contentTypeOf(request: Pick<FastifyRequest, 'headers'>): string | undefined {
  try {
    return parseContentType(single(request.headers['content-type']));
  } catch {
    throw s3Errors.invalidArgument('Content-Type is not a valid media type');
  }
}

/** If-None-Match: * and If-Match on a write of `ref` (S3's conditional writes). */
export async function s3WriteCondition(ctx: AppContext, request: FastifyRequest, ref: ObjectRef): Promise<WriteCondition | undefined> {
  const condition = writePreconditionsOf(
    (name) => single(request.headers[name]),
    () => s3Errors.notImplemented('If-None-Match other than * on a write'),
  );
  if (!condition?.ifMatch) return condition;
  return { ...condition, ifMatch: await indexEtags(ctx, ref, condition.ifMatch) };
}

/**
 * `x-amz-copy-source: /bucket/key` (or without the leading slash), percent-encoded, with
 * `?versionId=V` for a version: the object a copy reads, if the caller may read it (Access).
 */
export async function copySourceOf(
  ctx: AppContext,
  request: FastifyRequest,
): Promise<{ source: ObjectRef; versionId: string | undefined }> {
  const header = single(request.headers['x-amz-copy-source']) ?? '';
  const question = header.indexOf('?');
  const path = question < 0 ? header : header.slice(0, question);
  const query = new URLSearchParams(question < 0 ? '' : header.slice(question + 1));
  const versionId = query.get('versionId') ?? undefined;
  if (versionId === '') throw s3Errors.invalidArgument('x-amz-copy-source has an empty versionId');
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.replace(/^\//, ''));
  } catch {
    throw s3Errors.invalidArgument('x-amz-copy-source is not valid percent-encoding');
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0) throw s3Errors.invalidArgument('x-amz-copy-source must be /bucket/key');
  const bucket = decoded.slice(0, slash);
  if (!isStorageTypeOrBucketName(bucket)) throw s3Errors.noSuchBucket(bucket);
  return { source: await ctx.access.ref(request.principal, bucket, decoded.slice(slash + 1), 'object:read'), versionId };
}

/** 412, 304 or undefined (serve): storage/preconditions.ts over both of the object's ETags (sha256 and S3's). */
export function conditionVerdict(header: (name: string) => string | undefined, info: ObjectInfo): 304 | 412 | undefined {
  const verdict = evaluateRead(readPreconditionsOf(header), { etags: [info.etag, md5Etag(info)], lastModified: info.lastModified });
  return verdict === 'failed' ? 412 : verdict === 'not-modified' ? 304 : undefined;
}
