import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../http/context.js';
import { abortOnDisconnect } from '../http/receive-upload.js';
import { parseRangeHeader } from '../storage/byte-ranges.js';
import type { ObjectAcl, ObjectRef } from '../storage/model.js';
import { MultipartService, type PartResult } from '../storage/multipart-service.js';
import { principalOf } from './authenticate.js';
import { checksumElements, checksumHeaders } from './checksum-answers.js';
import { s3Errors } from './errors.js';
import { assertSupportedWrite, contentTypeOf, copySourceCheck, copySourceOf, s3AttributesOf } from './object-requests.js';
import { payloadOf } from './payload.js';
import { uploadChecksumOf } from './upload-checksum.js';
import { sendXml } from './xml.js';

const MAX_PART_NUMBER = 10_000;
const MAX_LISTED = 1000;

export async function createMultipartUpload(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  ref: ObjectRef,
  acl?: ObjectAcl,
) {
  assertSupportedWrite(request);
  const checksum = uploadChecksumOf(request);
  const { uploadId, expiry } = await ctx.multipart.create(ref, {
    contentType: contentTypeOf(request),
    attributes: s3AttributesOf(request, acl),
    checksum,
  });
  if (checksum) reply.header('x-amz-checksum-algorithm', checksum.algorithm).header('x-amz-checksum-type', checksum.type);
  // As S3 tells it when a lifecycle rule's AbortIncompleteMultipartUpload applies (a rule ID a
  // header cannot carry as it is, not printable ASCII, is left out: the date still says when).
  if (expiry.ruleId !== undefined) {
    reply.header('x-amz-abort-date', new Date(expiry.expiresAt).toUTCString());
    if (/^[\x20-\x7e]*$/.test(expiry.ruleId)) reply.header('x-amz-abort-rule-id', expiry.ruleId);
  }
  return sendXml(reply, 'InitiateMultipartUploadResult', { Bucket: ref.type, Key: ref.key, UploadId: uploadId });
}

/** UploadPart, and UploadPartCopy when the request names a copy source. */
export async function uploadPart(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, ref: ObjectRef, query: URLSearchParams) {
  const upload = await ctx.multipart.findUpload(ref, query.get('uploadId') ?? '');
  const number = partNumberOf(query);
  if (request.headers['x-amz-copy-source'] !== undefined) {
    const { source, versionId } = await copySourceOf(ctx, request);
    if (versionId !== undefined) reply.header('x-amz-copy-source-version-id', versionId);
    const part = await ctx.multipart.copyPart(upload, ref, number, {
      source,
      sourceVersionId: versionId,
      range: copySourceRangeOf(request),
      checkSource: copySourceCheck(request),
    });
    return sendXml(reply, 'CopyPartResult', {
      ETag: `"${part.etag}"`,
      LastModified: new Date(part.lastModified).toISOString(),
      ...checksumElements(part.checksum, false),
    });
  }
  const payload = payloadOf(request, principalOf(request), { algorithm: MultipartService.algorithmOf(upload) });
  const part: PartResult = await abortOnDisconnect(ctx, request, reply, (signal) =>
    ctx.multipart.uploadPart(upload, ref, number, {
      body: Readable.from(payload.body),
      length: payload.length,
      signal,
      expectedSha256: payload.expectedSha256,
      digests: () => ({ md5: payload.md5(), checksum: payload.checksum() }),
    }),
  );
  return reply.code(200).header('etag', `"${part.etag}"`).headers(checksumHeaders(part.checksum, false)).send();
}

export async function abortMultipartUpload(ctx: AppContext, reply: FastifyReply, ref: ObjectRef, query: URLSearchParams) {
  await ctx.multipart.abort(ref, query.get('uploadId') ?? '');
  return reply.code(204).send();
}

export async function listParts(ctx: AppContext, reply: FastifyReply, ref: ObjectRef, query: URLSearchParams) {
  const marker = Number(query.get('part-number-marker') ?? '0');
  const max = Math.min(Number(query.get('max-parts') ?? MAX_LISTED) || MAX_LISTED, MAX_LISTED);
  const page = await ctx.multipart.listParts(ref, query.get('uploadId') ?? '', { marker, max });
  const body: Record<string, unknown> = {
    Bucket: ref.type,
    Key: ref.key,
    UploadId: page.uploadId,
    PartNumberMarker: marker,
    MaxParts: max,
    IsTruncated: page.truncated,
    StorageClass: 'STANDARD',
  };
  if (page.checksum) Object.assign(body, { ChecksumAlgorithm: page.checksum.algorithm, ChecksumType: page.checksum.type });
  if (page.truncated) body.NextPartNumberMarker = page.nextMarker;
  if (page.parts.length > 0)
    body.Part = page.parts.map((part) => ({
      PartNumber: part.number,
      LastModified: new Date(part.lastModified).toISOString(),
      ETag: `"${part.etag}"`,
      Size: part.size,
      ...(part.checksum?.type === 'FULL_OBJECT' ? checksumElements(part.checksum, false) : {}),
    }));
  return sendXml(reply, 'ListPartsResult', body);
}

/** ListMultipartUploads of a bucket: under a prefix, grouped by a delimiter, paged by key and upload id markers. */
export async function listMultipartUploads(ctx: AppContext, reply: FastifyReply, tenant: string, bucket: string, query: URLSearchParams) {
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') || undefined;
  const maxUploads = Math.min(Math.max(Number(query.get('max-uploads') ?? MAX_LISTED) || MAX_LISTED, 1), MAX_LISTED);
  const keyMarker = query.get('key-marker') ?? '';
  const uploadIdMarker = query.get('upload-id-marker') ?? '';
  const page = await ctx.multipart.listUploads(tenant, bucket, { prefix, delimiter, maxUploads, keyMarker, uploadIdMarker });
  const body: Record<string, unknown> = {
    Bucket: bucket,
    KeyMarker: keyMarker,
    UploadIdMarker: uploadIdMarker,
    Prefix: prefix,
    MaxUploads: maxUploads,
    IsTruncated: page.truncated,
  };
  if (delimiter !== undefined) body.Delimiter = delimiter;
  if (page.truncated) Object.assign(body, { NextKeyMarker: page.nextKeyMarker, NextUploadIdMarker: page.nextUploadIdMarker });
  if (page.uploads.length > 0)
    body.Upload = page.uploads.map((upload) => ({
      Key: upload.key,
      UploadId: upload.uploadId,
      Initiated: new Date(upload.initiated).toISOString(),
      StorageClass: 'STANDARD',
    }));
  if (page.prefixes.length > 0) body.CommonPrefixes = page.prefixes.map((Prefix) => ({ Prefix }));
  return sendXml(reply, 'ListMultipartUploadsResult', body);
}

/** `x-amz-copy-source-range: bytes=first-last`, or undefined for the whole source. */
function copySourceRangeOf(request: FastifyRequest): { start: number; end: number } | undefined {
  const header = request.headers['x-amz-copy-source-range'];
  if (header === undefined) return undefined;
  const parsed = parseRangeHeader(String(header));
  if (!parsed || !('start' in parsed) || parsed.end === undefined)
    throw s3Errors.invalidArgument('x-amz-copy-source-range must be bytes=first-last');
  return parsed as { start: number; end: number };
}

function partNumberOf(query: URLSearchParams): number {
  const part = Number(query.get('partNumber'));
  if (!Number.isInteger(part) || part < 1 || part > MAX_PART_NUMBER)
    throw s3Errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive');
  return part;
}
