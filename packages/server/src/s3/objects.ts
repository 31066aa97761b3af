import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeMetadataValue } from 'stowage-client/metadata';
import type { AppContext } from '../http/context.js';
import { INERT_CONTENT_HEADERS } from '../http/inert-content.js';
import { abortOnDisconnect } from '../http/receive-upload.js';
import { parseRangeHeader, resolveRange } from '../storage/byte-ranges.js';
import { parseContentType } from '../storage/media-type.js';
import { isMetadataName, metadataOverLimit } from '../storage/metadata-limits.js';
import type { ObjectAttributes, ObjectInfo, ReadPlan, WriteCondition } from '../storage/model.js';
import { md5Etag, withMd5Etag } from '../storage/object-etags.js';
import { objectFacts } from '../storage/object-facts.js';
import { makeRef, type ObjectRef } from '../storage/object-ref.js';
import { DEFAULT_CONTENT_TYPE } from '../storage/object-service.js';
import { evaluateRead, readPreconditionsOf, writePreconditionsOf } from '../storage/preconditions.js';
import { assertPrivateAcl } from './acl.js';
import { principalOf } from './authenticate.js';
import { checksumElements, checksumHeaders } from './checksum-answers.js';
import { S3Error, s3Errors } from './errors.js';
import { single } from './header-value.js';
import { payloadOf } from './payload.js';
import { sendXml } from './xml.js';

const META = 'x-amz-meta-';
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
  'x-amz-grant-read',
  'x-amz-grant-write',
  'x-amz-grant-read-acp',
  'x-amz-grant-write-acp',
  'x-amz-grant-full-control',
];

/** Refuses a write that asks for tagging, encryption, object lock, ACLs or another storage class. */
export function assertSupportedWrite(request: Pick<FastifyRequest, 'headers'>): void {
  for (const name of UNSUPPORTED_HEADERS) if (request.headers[name] !== undefined) throw s3Errors.notImplemented(`The ${name} header`);
  assertPrivateAcl(request);
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

/** `response-*` query parameters of GetObject and the headers they set. */
const OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-disposition': 'content-disposition',
  'response-cache-control': 'cache-control',
  'response-content-encoding': 'content-encoding',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
};

/** GetObject and HeadObject: Range, the four conditional headers, response-* overrides. */
export async function getObject(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, ref: ObjectRef, query: URLSearchParams) {
  const head = request.method === 'HEAD';
  const partNumber = partNumberOf(query);
  if (partNumber !== undefined && request.headers.range !== undefined)
    throw s3Errors.invalidRequest('Cannot specify both Range header and partNumber query parameter');
  const range = head ? undefined : parseS3Range(request.headers.range);
  let part: { start: number; end: number; count: number } | undefined;
  let verdict: 304 | 412 | undefined;
  const found = await ctx.objects.read(ref, (info): ReadPlan => {
    part = partNumber === undefined ? undefined : partOf(info, partNumber);
    verdict = conditionVerdict((name) => single(request.headers[name]), info);
    if (verdict === 412) throw s3Errors.preconditionFailed();
    if (verdict === 304 || head) return { kind: 'none' };
    if (part) return { kind: 'range', start: part.start, end: part.end };
    if (!range) return { kind: 'all' };
    try {
      return resolveRange(range, info.size);
    } catch {
      throw s3Errors.invalidRange(info.size);
    }
  });
  const { info, plan, body } = found;
  reply.headers(objectHeaders(info));
  // S3 gives the stored checksum when asked, for a read of the whole object: it is not a range's.
  const wholeObject = part === undefined && plan.kind !== 'range';
  // A presigned GET carries it in its query.
  const mode = single(request.headers['x-amz-checksum-mode']) ?? query.get('x-amz-checksum-mode') ?? undefined;
  if (wholeObject && mode?.toUpperCase() === 'ENABLED') reply.headers(checksumHeaders(info.attributes?.s3Checksum));
  for (const [param, header] of Object.entries(OVERRIDES)) {
    const value = query.get(param);
    if (value !== null) reply.header(header, value);
  }
  // Whatever type a presigned URL's override names (`response-content-type=text/html`), the answer stays inert.
  reply.headers(INERT_CONTENT_HEADERS);
  if (verdict === 304) return reply.code(304).removeHeader('content-length').send();
  if (part) {
    reply.header('x-amz-mp-parts-count', part.count).header('content-range', `bytes ${part.start}-${part.end}/${info.size}`);
    reply.header('content-length', part.end - part.start + 1);
    if (head) return reply.code(206).send();
  }
  if (head) return reply.code(200).send();
  if (plan.kind === 'range') {
    reply.header('content-range', `bytes ${plan.start}-${plan.end}/${info.size}`).header('content-length', plan.end - plan.start + 1);
    ctx.metrics.bytesRead.inc(plan.end - plan.start + 1);
    return reply.code(206).send(body);
  }
  ctx.metrics.bytesRead.inc(info.size);
  return reply.code(200).send(body);
}

/** PutObject: If-None-Match: * and If-Match checked with the commit; metadata; digests checked. */
export async function putObject(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, ref: ObjectRef) {
  assertSupportedWrite(request);
  const payload = payloadOf(request, principalOf(request));
  const condition = await s3WriteCondition(ctx, request, ref);
  const attributes = s3AttributesOf(request);
  const info = await abortOnDisconnect(ctx, request, reply, (signal) =>
    ctx.objects.put(ref, Readable.from(payload.body), {
      contentType: contentTypeOf(request),
      contentLength: payload.length,
      signal,
      condition,
      expectedSha256: payload.expectedSha256,
      attributes: () => withMd5Etag(attributes, payload.md5(), payload.checksum()),
    }),
  );
  ctx.metrics.bytesWritten.inc(info.size);
  return reply.code(200).header('etag', md5Etag(info)).headers(checksumHeaders(info.attributes?.s3Checksum)).send();
}

export async function deleteObject(ctx: AppContext, reply: FastifyReply, ref: ObjectRef) {
  await ctx.objects.delete(ref).catch((error: unknown) => {
    // S3 answers 204 whether or not the key existed.
    if ((error as { code?: string }).code !== 'NoSuchKey') throw error;
  });
  return reply.code(204).send();
}

/**
 * CopyObject: the destination names the source's blob; no byte is read or written. With
 * `x-amz-metadata-directive: REPLACE` the copy takes the request's content type and metadata,
 * which is also how S3 clients change an object's metadata in place (a copy onto itself).
 */
export async function copyObject(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, ref: ObjectRef) {
  assertSupportedWrite(request);
  const source = copySourceOf(request, ref.tenant);
  const directive = String(request.headers['x-amz-metadata-directive'] ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') throw s3Errors.invalidArgument('x-amz-metadata-directive must be COPY or REPLACE');
  const replace =
    directive === 'REPLACE'
      ? { contentType: contentTypeOf(request) ?? DEFAULT_CONTENT_TYPE, attributes: s3AttributesOf(request) }
      : undefined;
  if (source.type === ref.type && source.key === ref.key && !replace)
    throw s3Errors.invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  const checkSource = copySourceCheck(request);
  await ctx.pause('copy.before-copy');
  const info = await ctx.objects.copy(source, ref, { checkSource, replace });
  return sendXml(reply, 'CopyObjectResult', {
    ETag: md5Etag(info),
    LastModified: new Date(info.lastModified).toISOString(),
    ...checksumElements(info.attributes?.s3Checksum),
  });
}

/** The response headers of an object, as S3 names them. */
export function objectHeaders(info: ObjectInfo): Record<string, string | number> {
  // S3 names no time-to-live, only the expiry's date: `now` does not matter.
  const facts = objectFacts(info, 'md5', info.lastModified);
  const headers: Record<string, string | number> = {
    'content-type': facts.contentType,
    'content-length': facts.size,
    etag: facts.etag,
    'last-modified': facts.lastModified,
    'accept-ranges': 'bytes',
  };
  if (info.attributes) {
    for (const [name, value] of facts.metadata) headers[`${META}${name}`] = value;
    if (facts.cacheControl) headers['cache-control'] = facts.cacheControl;
    if (facts.contentDisposition) headers['content-disposition'] = facts.contentDisposition;
    Object.assign(headers, facts.storedHeaders);
  }
  if (facts.expiry) headers['x-amz-expiration'] = `expiry-date="${facts.expiry.at}"`;
  return headers;
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
export function s3AttributesOf(request: Pick<FastifyRequest, 'headers'>): ObjectAttributes | null {
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
  if (Object.keys(metadata).length === 0 && cacheControl === null && contentDisposition === null && !hasHeaders) return null;
  return { metadata, cacheControl, contentDisposition, ...(hasHeaders ? { s3Headers } : {}) };
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

/** `x-amz-copy-source: /bucket/key` (or without the leading slash), percent-encoded. */
export function copySourceOf(request: FastifyRequest, tenant: string): ObjectRef {
  const header = single(request.headers['x-amz-copy-source']) ?? '';
  const [path = ''] = header.split('?');
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.replace(/^\//, ''));
  } catch {
    throw s3Errors.invalidArgument('x-amz-copy-source is not valid percent-encoding');
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0) throw s3Errors.invalidArgument('x-amz-copy-source must be /bucket/key');
  const bucket = decoded.slice(0, slash);
  try {
    return makeRef(tenant, bucket, decoded.slice(slash + 1));
  } catch {
    throw s3Errors.noSuchBucket(bucket);
  }
}

/** 412, 304 or undefined (serve): storage/preconditions.ts over both of the object's ETags (sha256 and S3's). */
function conditionVerdict(header: (name: string) => string | undefined, info: ObjectInfo): 304 | 412 | undefined {
  const verdict = evaluateRead(readPreconditionsOf(header), { etags: [info.etag, md5Etag(info)], lastModified: info.lastModified });
  return verdict === 'failed' ? 412 : verdict === 'not-modified' ? 304 : undefined;
}

/** The `partNumber` query parameter: 1 to 10,000, or undefined when absent. */
function partNumberOf(query: URLSearchParams): number | undefined {
  const raw = query.get('partNumber');
  if (raw === null) return undefined;
  const number = Number(raw);
  if (!/^\d+$/.test(raw) || number < 1 || number > 10_000)
    throw s3Errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive');
  return number;
}

/**
 * The bytes of part `number` of a multipart object. The boundaries are known when every part but
 * the last had the same size (as every S3 client cuts them); otherwise NotImplemented, never the
 * whole object. An object written whole is its own part 1: undefined, the whole object.
 */
function partOf(info: ObjectInfo, number: number): { start: number; end: number; count: number } | undefined {
  const count = info.attributes?.parts;
  if (!count) {
    if (number !== 1) throw s3Errors.invalidPartNumber();
    return undefined;
  }
  if (number > count) throw s3Errors.invalidPartNumber();
  const size = info.attributes?.partSize;
  if (!size) throw s3Errors.notImplemented('GetObject and HeadObject of one part of an object whose parts differ in size');
  return { start: (number - 1) * size, end: number === count ? info.size - 1 : number * size - 1, count };
}

function parseS3Range(header: string | undefined) {
  try {
    return parseRangeHeader(header);
  } catch {
    // S3 ignores a Range it cannot parse and sends the whole object.
    return undefined;
  }
}
