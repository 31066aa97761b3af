import { createHash, type Hash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StorageType } from 'stowage-client/protocol';
import type { ObjectBody, ObjectInfo, ObjectRef } from '../backends/backend.js';
import { assertCondition } from '../backends/conditions.js';
import { keyAfter, prefixUpperBound } from '../backends/key-range.js';
import type { AppContext } from '../http/context.js';
import { abortOnDisconnect } from '../http/receive-upload.js';
import { parseRangeHeader } from '../storage/byte-ranges.js';
import { principalOf } from './authenticate.js';
import { s3Errors } from './errors.js';
import { sendLongXml } from './long-answer.js';
import {
  assertCopySourceConditions,
  assertSupportedWrite,
  contentTypeOf,
  copySourceOf,
  s3AttributesOf,
  s3WriteCondition,
  withS3Etag,
} from './objects.js';
import { payloadOf } from './payload.js';
import { parseXmlBody, sendXml } from './xml.js';

/**
 * Multipart uploads live in the index as rows of a storage type no route accepts: one row per
 * upload (its target, content type and metadata) and one per part (its blob). So parts get
 * what every row has: transactional writes, quota, collection of replaced or deleted blobs, and
 * expiry, which reclaims uploads left unfinished after UPLOAD_LIFETIME_MS. Completion streams the
 * parts, in order, into the object's new blob, and its commit removes them (the quota sees the
 * object replace its parts).
 */
const MULTIPART = '.multipart' as StorageType;
const UPLOAD_LIFETIME_MS = 7 * 24 * 3_600_000;
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;
const MAX_LISTED = 1000;

const uploadKey = (bucket: string, key: string, uploadId: string) => `u/${bucket}/${key}\u0000${uploadId}`;
const partPrefix = (uploadId: string) => `p/${uploadId}/`;
const partKey = (uploadId: string, part: number) => `${partPrefix(uploadId)}${String(part).padStart(5, '0')}`;
const internal = (tenant: string, key: string): ObjectRef => ({ tenant, type: MULTIPART, key });

export async function createMultipartUpload(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, ref: ObjectRef) {
  assertSupportedWrite(request);
  const uploadId = randomBytes(16).toString('hex');
  await ctx.backend.write(internal(ref.tenant, uploadKey(ref.type, ref.key, uploadId)), Readable.from([]), {
    contentType: contentTypeOf(request) ?? 'application/octet-stream',
    expiresAt: ctx.clock() + UPLOAD_LIFETIME_MS,
    maxBytes: 0,
    expectedBytes: 0,
    signal: undefined,
    now: ctx.clock(),
    attributes: s3AttributesOf(request),
  });
  return sendXml(reply, 'InitiateMultipartUploadResult', { Bucket: ref.type, Key: ref.key, UploadId: uploadId });
}

export async function uploadPart(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, ref: ObjectRef, query: URLSearchParams) {
  const upload = await findUpload(ctx, ref, query);
  const part = partNumberOf(query);
  const target = internal(ref.tenant, partKey(upload.uploadId, part));
  let info: ObjectInfo;
  if (request.headers['x-amz-copy-source'] !== undefined) info = await copyPart(ctx, request, target, upload.expiresAt);
  else {
    const payload = payloadOf(request, principalOf(request));
    info = await abortOnDisconnect(ctx, request, reply, (signal) =>
      ctx.backend.write(target, Readable.from(payload.body), {
        contentType: 'application/octet-stream',
        expiresAt: upload.expiresAt,
        maxBytes: ctx.config.maxObjectBytes,
        expectedBytes: payload.length,
        signal,
        now: ctx.clock(),
        expectedSha256: payload.expectedSha256,
        attributes: () => withS3Etag(null, payload.md5()),
      }),
    );
  }
  const etag = `"${partEtag(info)}"`;
  if (request.headers['x-amz-copy-source'] !== undefined)
    return sendXml(reply, 'CopyPartResult', { ETag: etag, LastModified: new Date(info.lastModified).toISOString() });
  return reply.code(200).header('etag', etag).send();
}

/**
 * A part's ETag, unquoted: its MD5 as S3 gives it, known for parts uploaded or copied from a
 * range. A part that references a whole source object has the source's MD5 when it has one, and
 * otherwise its sha256 (no byte is read to compute an MD5).
 */
function partEtag(row: Pick<ObjectInfo, 'sha256' | 'attributes'>): string {
  const etag = row.attributes?.s3Etag;
  return etag && /^[0-9a-f]{32}$/.test(etag) ? etag : row.sha256;
}

/** `{ partSize }` when every part but the last has the same size and the last is no larger: part N's bytes are then known. */
function uniformPartSize(sizes: readonly number[]): { partSize?: number } {
  const [first = 0] = sizes;
  const uniform = sizes.every((size, i) => (i < sizes.length - 1 ? size === first : size <= first && size > 0));
  return uniform && first > 0 ? { partSize: first } : {};
}

/** S3's ETag of a multipart upload: the MD5 of its parts' binary ETags, then `-` and their count. */
function multipartEtag(partEtags: readonly string[]): string {
  const md5 = createHash('md5');
  for (const etag of partEtags) md5.update(Buffer.from(etag, 'hex'));
  return `${md5.digest('hex')}-${partEtags.length}`;
}

/** UploadPartCopy: a whole source is referenced (no bytes move); a range is read and written. */
async function copyPart(ctx: AppContext, request: FastifyRequest, target: ObjectRef, expiresAt: number): Promise<ObjectInfo> {
  const source = copySourceOf(request, target.tenant);
  await assertCopySourceConditions(ctx, request, source);
  await ctx.pause('copy.before-copy');
  const rangeHeader = request.headers['x-amz-copy-source-range'];
  if (rangeHeader === undefined) {
    return ctx.backend.transferKey({
      from: source,
      to: target,
      move: false,
      overwrite: true,
      condition: undefined,
      now: ctx.clock(),
      expiresAtIfNone: expiresAt,
    });
  }
  const range = parseRangeHeader(String(rangeHeader));
  if (!range || !('start' in range) || range.end === undefined)
    throw s3Errors.invalidArgument('x-amz-copy-source-range must be bytes=first-last');
  const { start, end } = range as { start: number; end: number };
  const found = await ctx.objects.read(source, (info) => {
    if (end >= info.size) throw s3Errors.invalidArgument('The x-amz-copy-source-range is outside the source object');
    return { kind: 'range', start, end };
  });
  const md5 = createHash('md5');
  return ctx.backend.write(target, Readable.from(hashedAs(md5, found.body)), {
    contentType: 'application/octet-stream',
    expiresAt,
    maxBytes: ctx.config.maxObjectBytes,
    expectedBytes: end - start + 1,
    signal: undefined,
    now: ctx.clock(),
    attributes: () => withS3Etag(null, md5.digest('hex')),
  });
}

export async function completeMultipartUpload(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  ref: ObjectRef,
  query: URLSearchParams,
  xml: string,
) {
  const upload = await findUpload(ctx, ref, query);
  const requested = ((parseXmlBody(xml, 'CompleteMultipartUpload').Part ?? []) as Array<{ PartNumber?: unknown; ETag?: unknown }>).map(
    (part) => ({
      number: Number(part.PartNumber),
      etag: String(part.ETag ?? '')
        .replaceAll('"', '')
        .replaceAll('&quot;', ''),
    }),
  );
  if (requested.length === 0) throw s3Errors.malformedXml();
  const parts = await listPartRows(ctx, ref.tenant, upload.uploadId);
  // As S3 checks: the order of the whole list first, then each part, then the sizes.
  if (requested.some((want, i) => i > 0 && want.number <= (requested[i - 1] as { number: number }).number))
    throw s3Errors.invalidPartOrder();
  const chosen = requested.map((want, i) => {
    const row = parts.get(want.number);
    if (!row || partEtag(row) !== want.etag) throw s3Errors.invalidPart();
    if (i < requested.length - 1 && row.size < MIN_PART_BYTES) throw s3Errors.entityTooSmall();
    return want.number;
  });
  const etag = multipartEtag(requested.map((want) => want.etag));
  const sizes = chosen.map((number) => parts.get(number)?.size ?? 0);
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const condition = await s3WriteCondition(ctx, request, ref);
  // A condition that already fails is answered with its status before any byte is copied; the
  // commit checks it again, atomically.
  if (condition) assertCondition((await ctx.backend.head(ref, ctx.clock()))?.etag, condition);
  const complete = async () => {
    await ctx.pause('multipart.after-check');
    const info = await ctx.backend.write(ref, Readable.from(concatParts(ctx, ref.tenant, upload.uploadId, chosen)), {
      contentType: upload.contentType,
      expiresAt: ref.type === 'tmp' ? ctx.clock() + ctx.config.tmpTtlMs : undefined,
      maxBytes: ctx.config.maxObjectBytes,
      expectedBytes: total,
      signal: undefined,
      now: ctx.clock(),
      condition,
      attributes: { ...withS3Etag(upload.attributes ?? null, etag), parts: chosen.length, ...uniformPartSize(sizes) },
      // The parts go in the object's commit: the quota sees the object replace them, not join them.
      releases: { type: MULTIPART, prefix: partPrefix(upload.uploadId) },
    });
    // The object is committed: an upload row left behind (a failed delete) only lists until it expires.
    await ctx.backend
      .delete(internal(ref.tenant, uploadKey(ref.type, ref.key, upload.uploadId)), ctx.clock())
      .catch((error: unknown) => request.log.warn({ err: error }, 'could not remove a completed multipart upload'));
    ctx.metrics.bytesWritten.inc(info.size);
    return {
      root: 'CompleteMultipartUploadResult',
      body: { Location: `/${ref.type}/${ref.key}`, Bucket: ref.type, Key: ref.key, ETag: `"${etag}"` },
    };
  };
  return sendLongXml(request, reply, complete(), ctx.config.s3KeepAliveMs);
}

export async function abortMultipartUpload(ctx: AppContext, reply: FastifyReply, ref: ObjectRef, query: URLSearchParams) {
  const upload = await findUpload(ctx, ref, query);
  await removeUpload(ctx, ref, upload.uploadId);
  return reply.code(204).send();
}

export async function listParts(ctx: AppContext, reply: FastifyReply, ref: ObjectRef, query: URLSearchParams) {
  const upload = await findUpload(ctx, ref, query);
  const marker = Number(query.get('part-number-marker') ?? '0');
  const max = Math.min(Number(query.get('max-parts') ?? MAX_LISTED) || MAX_LISTED, MAX_LISTED);
  const all = [...(await listPartRows(ctx, ref.tenant, upload.uploadId)).entries()].filter(([number]) => number > marker);
  const page = all.slice(0, max);
  const body: Record<string, unknown> = {
    Bucket: ref.type,
    Key: ref.key,
    UploadId: upload.uploadId,
    PartNumberMarker: marker,
    MaxParts: max,
    IsTruncated: all.length > max,
    StorageClass: 'STANDARD',
  };
  if (all.length > max) body.NextPartNumberMarker = page.at(-1)?.[0];
  if (page.length > 0)
    body.Part = page.map(([number, row]) => ({
      PartNumber: number,
      LastModified: new Date(row.lastModified).toISOString(),
      ETag: `"${partEtag(row)}"`,
      Size: row.size,
    }));
  return sendXml(reply, 'ListPartsResult', body);
}

/**
 * ListMultipartUploads of a bucket: under a prefix, grouped by a delimiter, paged by key and
 * upload id markers (uploads of one key in upload id order).
 */
export async function listMultipartUploads(
  ctx: AppContext,
  reply: FastifyReply,
  tenant: string,
  bucket: StorageType,
  query: URLSearchParams,
) {
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') || undefined;
  const maxUploads = Math.min(Math.max(Number(query.get('max-uploads') ?? MAX_LISTED) || MAX_LISTED, 1), MAX_LISTED);
  const keyMarker = query.get('key-marker') ?? '';
  const uploadIdMarker = query.get('upload-id-marker') ?? '';
  const base = `u/${bucket}/`;
  let start: Buffer = Buffer.from(`${base}${prefix}`);
  if (keyMarker !== '') {
    const marker = Buffer.from(`${base}${keyMarker}`);
    // After the marker's upload; after every upload of the key; or past a common prefix.
    const resume =
      uploadIdMarker !== ''
        ? keyAfter(Buffer.from(`${base}${keyMarker}\u0000${uploadIdMarker}`))
        : delimiter !== undefined && keyMarker.endsWith(delimiter)
          ? (prefixUpperBound(marker) ?? keyAfter(marker))
          : Buffer.concat([marker, Buffer.from([1])]);
    if (Buffer.compare(resume, start) > 0) start = resume;
  }
  const page = await ctx.backend.listFolder({
    tenant,
    type: MULTIPART,
    prefix: `${base}${prefix}`,
    delimiter,
    details: true,
    start,
    limit: maxUploads,
    now: ctx.clock(),
  });
  const uploads: unknown[] = [];
  const prefixes: unknown[] = [];
  let nextKey = '';
  let nextUploadId = '';
  for (const entry of page.entries) {
    if (entry.kind === 'folder') {
      prefixes.push({ Prefix: entry.prefix.slice(base.length) });
      [nextKey, nextUploadId] = [entry.prefix.slice(base.length), ''];
      continue;
    }
    const [key = '', uploadId = ''] = entry.key.slice(base.length).split('\u0000');
    uploads.push({
      Key: key,
      UploadId: uploadId,
      Initiated: new Date(entry.row?.lastModified ?? 0).toISOString(),
      StorageClass: 'STANDARD',
    });
    [nextKey, nextUploadId] = [key, uploadId];
  }
  const body: Record<string, unknown> = {
    Bucket: bucket,
    KeyMarker: keyMarker,
    UploadIdMarker: uploadIdMarker,
    Prefix: prefix,
    MaxUploads: maxUploads,
    IsTruncated: page.next !== undefined,
  };
  if (delimiter !== undefined) body.Delimiter = delimiter;
  if (page.next) Object.assign(body, { NextKeyMarker: nextKey, NextUploadIdMarker: nextUploadId });
  if (uploads.length > 0) body.Upload = uploads;
  if (prefixes.length > 0) body.CommonPrefixes = prefixes;
  return sendXml(reply, 'ListMultipartUploadsResult', body);
}

interface UploadRecord {
  readonly uploadId: string;
  readonly contentType: string;
  readonly expiresAt: number;
  readonly attributes: ObjectInfo['attributes'];
}

async function findUpload(ctx: AppContext, ref: ObjectRef, query: URLSearchParams): Promise<UploadRecord> {
  const uploadId = query.get('uploadId') ?? '';
  if (!/^[0-9a-f]{32}$/.test(uploadId)) throw s3Errors.noSuchUpload();
  const info = await ctx.backend.head(internal(ref.tenant, uploadKey(ref.type, ref.key, uploadId)), ctx.clock());
  if (!info || info.expiresAt === undefined) throw s3Errors.noSuchUpload();
  return { uploadId, contentType: info.contentType, expiresAt: info.expiresAt, attributes: info.attributes };
}

/** The upload's parts by number. */
async function listPartRows(ctx: AppContext, tenant: string, uploadId: string) {
  const parts = new Map<number, Pick<ObjectInfo, 'size' | 'sha256' | 'lastModified' | 'attributes'>>();
  const prefix = partPrefix(uploadId);
  for (let start: Buffer | undefined = Buffer.from(prefix); start; ) {
    const page = await ctx.backend.listFolder({
      tenant,
      type: MULTIPART,
      prefix,
      delimiter: undefined,
      details: true,
      start,
      limit: MAX_LISTED,
      now: ctx.clock(),
    });
    for (const entry of page.entries) {
      if (entry.kind === 'object' && entry.row) parts.set(Number(entry.key.slice(prefix.length)), entry.row);
    }
    start = page.next;
  }
  return parts;
}

/** The bytes of a body as they pass through `hash`. */
async function* hashedAs(hash: Hash, body: ObjectBody | undefined): AsyncGenerator<Buffer> {
  for await (const chunk of Buffer.isBuffer(body) ? [body] : ((body ?? []) as AsyncIterable<Buffer>)) {
    hash.update(chunk);
    yield chunk;
  }
}

async function* concatParts(ctx: AppContext, tenant: string, uploadId: string, numbers: number[]): AsyncGenerator<Buffer> {
  for (const number of numbers) {
    const found = await ctx.backend.read(internal(tenant, partKey(uploadId, number)), ctx.clock());
    if (!found?.body) throw s3Errors.invalidPart();
    if (Buffer.isBuffer(found.body)) yield found.body;
    else yield* found.body as AsyncIterable<Buffer>;
  }
}

async function removeUpload(ctx: AppContext, ref: ObjectRef, uploadId: string): Promise<void> {
  await ctx.backend.deletePrefix(ref.tenant, MULTIPART, partPrefix(uploadId), ctx.clock());
  await ctx.backend.delete(internal(ref.tenant, uploadKey(ref.type, ref.key, uploadId)), ctx.clock());
}

function partNumberOf(query: URLSearchParams): number {
  const part = Number(query.get('partNumber'));
  if (!Number.isInteger(part) || part < 1 || part > MAX_PART_NUMBER)
    throw s3Errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive');
  return part;
}
