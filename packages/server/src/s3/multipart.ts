import { createHash, type Hash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StorageType } from 'stowage-client/protocol';
import type { ObjectBody, ObjectInfo, ObjectRef } from '../backends/backend.js';
import { keyAfter, prefixUpperBound } from '../backends/key-range.js';
import type { AppContext } from '../http/context.js';
import { abortOnDisconnect } from '../http/receive-upload.js';
import { parseRangeHeader } from '../storage/byte-ranges.js';
import { principalOf } from './authenticate.js';
import { checksumElements, checksumHeaders } from './checksum-answers.js';
import { type Digest, newDigest } from './checksums.js';
import { s3Errors } from './errors.js';
import {
  findUpload,
  internal,
  listPartRows,
  MAX_LISTED,
  MULTIPART,
  partEtag,
  partKey,
  partPrefix,
  UPLOAD_LIFETIME_MS,
  type UploadRecord,
  uploadKey,
} from './multipart-rows.js';
import { assertSupportedWrite, contentTypeOf, copySourceCheck, copySourceOf, s3AttributesOf, withS3Etag } from './objects.js';
import { payloadOf } from './payload.js';
import { uploadAlgorithm, uploadChecksumOf } from './upload-checksum.js';
import { sendXml } from './xml.js';

const MAX_PART_NUMBER = 10_000;

export async function createMultipartUpload(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, ref: ObjectRef) {
  assertSupportedWrite(request);
  const checksum = uploadChecksumOf(request);
  const attributes = s3AttributesOf(request);
  const uploadId = randomBytes(16).toString('hex');
  await ctx.backend.write(internal(ref.tenant, uploadKey(ref.type, ref.key, uploadId)), Readable.from([]), {
    contentType: contentTypeOf(request) ?? 'application/octet-stream',
    expiresAt: ctx.clock() + UPLOAD_LIFETIME_MS,
    maxBytes: 0,
    expectedBytes: 0,
    signal: undefined,
    now: ctx.clock(),
    attributes: checksum
      ? { ...(attributes ?? { metadata: {}, cacheControl: null, contentDisposition: null }), s3Checksum: checksum }
      : attributes,
  });
  if (checksum) reply.header('x-amz-checksum-algorithm', checksum.algorithm).header('x-amz-checksum-type', checksum.type);
  return sendXml(reply, 'InitiateMultipartUploadResult', { Bucket: ref.type, Key: ref.key, UploadId: uploadId });
}

export async function uploadPart(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, ref: ObjectRef, query: URLSearchParams) {
  const upload = await findUpload(ctx, ref, query);
  const part = partNumberOf(query);
  const target = internal(ref.tenant, partKey(upload.uploadId, part));
  let info: ObjectInfo;
  if (request.headers['x-amz-copy-source'] !== undefined) info = await copyPart(ctx, request, target, upload);
  else {
    const payload = payloadOf(request, principalOf(request), { algorithm: uploadAlgorithm(upload) });
    info = await abortOnDisconnect(ctx, request, reply, (signal) =>
      ctx.backend.write(target, Readable.from(payload.body), {
        contentType: 'application/octet-stream',
        expiresAt: upload.expiresAt,
        maxBytes: ctx.config.maxObjectBytes,
        expectedBytes: payload.length,
        signal,
        now: ctx.clock(),
        expectedSha256: payload.expectedSha256,
        attributes: () => withS3Etag(null, payload.md5(), payload.checksum()),
      }),
    );
  }
  const etag = `"${partEtag(info)}"`;
  const checksum = info.attributes?.s3Checksum;
  if (request.headers['x-amz-copy-source'] !== undefined)
    return sendXml(reply, 'CopyPartResult', {
      ETag: etag,
      LastModified: new Date(info.lastModified).toISOString(),
      ...checksumElements(checksum, false),
    });
  return reply.code(200).header('etag', etag).headers(checksumHeaders(checksum, false)).send();
}

/**
 * UploadPartCopy: a whole source is referenced (no bytes move); a range is read and written. The
 * copy-source conditions are judged on the source version copied, as for CopyObject. A part of an
 * upload created with a checksum algorithm needs that algorithm's checksum of its bytes: a whole
 * source that carries it (FULL_OBJECT) gives it, any other is read like a range to compute it.
 */
async function copyPart(ctx: AppContext, request: FastifyRequest, target: ObjectRef, upload: UploadRecord): Promise<ObjectInfo> {
  const source = copySourceOf(request, target.tenant);
  const checkSource = copySourceCheck(request);
  const algorithm = uploadAlgorithm(upload);
  await ctx.pause('copy.before-copy');
  const rangeHeader = request.headers['x-amz-copy-source-range'];
  if (rangeHeader === undefined) {
    const needsBytes = new Error("the source does not carry the upload's checksum");
    try {
      return await ctx.backend.transferKey({
        from: source,
        to: target,
        move: false,
        overwrite: true,
        condition: undefined,
        checkSource: (info) => {
          checkSource?.(info);
          const carried = info.attributes?.s3Checksum;
          if (algorithm && (carried?.algorithm !== algorithm || carried.type !== 'FULL_OBJECT')) throw needsBytes;
        },
        now: ctx.clock(),
        expiresAtIfNone: upload.expiresAt,
      });
    } catch (error) {
      if (error !== needsBytes) throw error;
    }
  }
  let range: { start: number; end: number } | undefined;
  if (rangeHeader !== undefined) {
    const parsed = parseRangeHeader(String(rangeHeader));
    if (!parsed || !('start' in parsed) || parsed.end === undefined)
      throw s3Errors.invalidArgument('x-amz-copy-source-range must be bytes=first-last');
    range = parsed as { start: number; end: number };
  }
  // The conditions are judged on the row whose bytes are read.
  let size = 0;
  const found = await ctx.objects.read(source, (info) => {
    checkSource?.(info);
    if (!range) {
      size = info.size;
      return { kind: 'all' };
    }
    // As S3 answers a range past the source's end.
    if (range.end >= info.size) throw s3Errors.invalidRange(info.size);
    size = range.end - range.start + 1;
    return { kind: 'range', start: range.start, end: range.end };
  });
  const digests: CopiedDigests = { md5: createHash('md5'), checksum: algorithm ? newDigest(algorithm) : undefined };
  return ctx.backend.write(target, Readable.from(digested(digests, found.body)), {
    contentType: 'application/octet-stream',
    expiresAt: upload.expiresAt,
    maxBytes: ctx.config.maxObjectBytes,
    expectedBytes: size,
    signal: undefined,
    now: ctx.clock(),
    attributes: () =>
      withS3Etag(
        null,
        digests.md5.digest('hex'),
        algorithm && digests.value !== undefined ? { algorithm, type: 'FULL_OBJECT', value: digests.value } : undefined,
      ),
  });
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
  const checksum = upload.attributes?.s3Checksum;
  if (checksum) Object.assign(body, { ChecksumAlgorithm: checksum.algorithm, ChecksumType: checksum.type });
  if (all.length > max) body.NextPartNumberMarker = page.at(-1)?.[0];
  if (page.length > 0)
    body.Part = page.map(([number, row]) => ({
      PartNumber: number,
      LastModified: new Date(row.lastModified).toISOString(),
      ETag: `"${partEtag(row)}"`,
      Size: row.size,
      ...(row.attributes?.s3Checksum?.type === 'FULL_OBJECT' ? checksumElements(row.attributes.s3Checksum, false) : {}),
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

interface CopiedDigests {
  readonly md5: Hash;
  readonly checksum: Digest | undefined;
  /** The checksum's base64 value, once the body has been read. */
  value?: string;
}

/** The bytes of a body as they pass through the digests. */
async function* digested(digests: CopiedDigests, body: ObjectBody | undefined): AsyncGenerator<Buffer> {
  for await (const chunk of Buffer.isBuffer(body) ? [body] : ((body ?? []) as AsyncIterable<Buffer>)) {
    digests.md5.update(chunk);
    digests.checksum?.update(chunk);
    yield chunk;
  }
  if (digests.checksum) digests.value = (await digests.checksum.digest()).toString('base64');
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
