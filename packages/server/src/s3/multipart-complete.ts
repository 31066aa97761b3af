import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ObjectRef, S3ChecksumAttribute, WriteCondition } from '../backends/backend.js';
import { assertCondition } from '../backends/conditions.js';
import { isStowageError } from '../errors.js';
import type { AppContext } from '../http/context.js';
import { checksumElements } from './checksum-answers.js';
import { S3Error, s3Errors } from './errors.js';
import { sendLongXml, type XmlAnswer } from './long-answer.js';
import { type ListedPart, listedChecksums, objectChecksumOf } from './multipart-checksum.js';
import {
  findUpload,
  internal,
  listPartRows,
  MULTIPART,
  partEtag,
  partKey,
  partPrefix,
  type UploadRecord,
  uploadKey,
} from './multipart-rows.js';
import { s3WriteCondition, withS3Etag } from './objects.js';
import { parseXmlBody, sendXml } from './xml.js';

const MIN_PART_BYTES = 5 * 1024 * 1024;

/** A part as the completion checked it: its number, and the bytes it held (by sha256 and size). */
interface CheckedPart {
  readonly number: number;
  readonly sha256: string;
  readonly size: number;
}

interface RequestedPart extends ListedPart {
  readonly etag: string;
}

/**
 * CompleteMultipartUpload. The parts are checked against the request's list, then streamed in
 * order into the object's new blob, and the object's commit removes them (the quota sees the
 * object replace its parts). Each part is read from a row holding the bytes that were checked,
 * compared as the row is read: a part uploaded again in between fails the completion
 * (InvalidPart, nothing stored, the upload kept) instead of putting its bytes under the ETag the
 * client listed.
 *
 * A completion runs to its end once begun, whether or not its client still listens: the object
 * records the upload that made it, so a Complete sent again with the same list (its answer was
 * lost, or its client gave up waiting) gets the result, as S3 answers it, and so does one that
 * raced it and found the parts already taken.
 */
export async function completeMultipartUpload(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  ref: ObjectRef,
  query: URLSearchParams,
  xml: string,
) {
  const requested = requestedParts(xml);
  const etag = multipartEtag(requested.map((want) => want.etag));
  const uploadId = query.get('uploadId') ?? '';
  let checked: {
    upload: UploadRecord;
    parts: CheckedPart[];
    condition: WriteCondition | undefined;
    checksum: S3ChecksumAttribute | undefined;
  };
  try {
    checked = await checkParts(ctx, request, ref, query, requested);
  } catch (error) {
    const done = await completedBefore(ctx, ref, uploadId, etag, error);
    return sendXml(reply, done.root, done.body);
  }
  const { upload, parts, condition, checksum } = checked;
  // The upload's row names the algorithm its parts use; the object gets the checksum they make.
  const { s3Checksum: _requested, ...uploadAttributes } = upload.attributes ?? {
    metadata: {},
    cacheControl: null,
    contentDisposition: null,
  };
  const sizes = parts.map((part) => part.size);
  const complete = async (): Promise<XmlAnswer> => {
    await ctx.pause('multipart.after-check');
    const info = await ctx.backend.write(ref, Readable.from(checkedBytes(ctx, ref.tenant, upload.uploadId, parts)), {
      contentType: upload.contentType,
      expiresAt: ref.type === 'tmp' ? ctx.clock() + ctx.config.tmpTtlMs : undefined,
      maxBytes: ctx.config.maxObjectBytes,
      expectedBytes: sizes.reduce((sum, size) => sum + size, 0),
      // None: a completion once begun finishes even if its client leaves, so its retry finds the result.
      signal: undefined,
      now: ctx.clock(),
      condition,
      attributes: {
        ...withS3Etag(uploadAttributes, etag, checksum),
        parts: parts.length,
        ...uniformPartSize(sizes),
        s3UploadId: upload.uploadId,
      },
      // The parts go in the object's commit: the quota sees the object replace them, not join them.
      releases: { type: MULTIPART, prefix: partPrefix(upload.uploadId) },
    });
    // The object is committed: an upload row left behind (a failed delete) only lists until it expires.
    await ctx.backend
      .delete(internal(ref.tenant, uploadKey(ref.type, ref.key, upload.uploadId)), ctx.clock())
      .catch((error: unknown) => request.log.warn({ err: error }, 'could not remove a completed multipart upload'));
    ctx.metrics.bytesWritten.inc(info.size);
    return resultOf(ref, etag, checksum);
  };
  const answer = complete().catch((error: unknown) => completedBefore(ctx, ref, upload.uploadId, etag, error));
  return sendLongXml(request, reply, answer, ctx.config.s3KeepAliveMs);
}

/**
 * The request's part list: numbers, ETags (unquoted) and the checksums it names, in ascending
 * order (InvalidPartOrder otherwise). A number listed twice in a row names one part, as S3 and
 * RGW take it: the last entry counts.
 */
function requestedParts(xml: string): RequestedPart[] {
  const listed = (parseXmlBody(xml, 'CompleteMultipartUpload').Part ?? []) as Array<Record<string, unknown>>;
  if (listed.length === 0) throw s3Errors.malformedXml();
  const parts = listed.map((part) => ({
    number: Number(part.PartNumber),
    etag: String(part.ETag ?? '')
      .replaceAll('"', '')
      .replaceAll('&quot;', ''),
    checksums: listedChecksums(part),
  }));
  if (parts.some((part, i) => i > 0 && part.number < (parts[i - 1] as { number: number }).number)) throw s3Errors.invalidPartOrder();
  return parts.filter((part, i) => parts[i + 1]?.number !== part.number);
}

/**
 * The upload and the parts the request names, checked as S3 checks them (the list's order was,
 * when it was read): each part's ETag, then the sizes; and a condition that already fails, answered
 * with its status before any byte is copied (the commit checks it again, atomically).
 */
async function checkParts(
  ctx: AppContext,
  request: FastifyRequest,
  ref: ObjectRef,
  query: URLSearchParams,
  requested: readonly RequestedPart[],
) {
  const upload = await findUpload(ctx, ref, query);
  const rows = await listPartRows(ctx, ref.tenant, upload.uploadId);
  const found = requested.map((want, i) => {
    const row = rows.get(want.number);
    if (!row || partEtag(row) !== want.etag) throw s3Errors.invalidPart();
    if (i < requested.length - 1 && row.size < MIN_PART_BYTES) throw s3Errors.entityTooSmall();
    return row;
  });
  const parts = found.map(
    (row, i): CheckedPart => ({ number: (requested[i] as RequestedPart).number, sha256: row.sha256, size: row.size }),
  );
  const checksum = await objectChecksumOf(
    upload.attributes?.s3Checksum,
    requested,
    found.map((row) => ({ size: row.size, checksum: row.attributes?.s3Checksum })),
    request.headers,
  );
  const condition = await s3WriteCondition(ctx, request, ref);
  if (condition) assertCondition((await ctx.backend.head(ref, ctx.clock()))?.etag, condition);
  return { upload, parts, condition, checksum };
}

/**
 * The parts' bytes, in order, each read from a row that holds what the check saw (the same
 * sha256 and size): a row with other bytes is a part uploaded again since, and no row is a part
 * another completion or an abort took. Either ends the completion, before its commit.
 */
async function* checkedBytes(ctx: AppContext, tenant: string, uploadId: string, parts: readonly CheckedPart[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    const changed = () => new S3Error('InvalidPart', `Part ${part.number} changed after the completion checked it; nothing was stored`);
    const found = await ctx.backend.read(internal(tenant, partKey(uploadId, part.number)), ctx.clock(), (info) => {
      if (info.sha256 !== part.sha256 || info.size !== part.size) throw changed();
      return { kind: 'all' };
    });
    if (!found?.body) throw changed();
    if (Buffer.isBuffer(found.body)) yield found.body;
    else yield* found.body as AsyncIterable<Buffer>;
  }
}

/**
 * The result of this upload's completion when the object at `ref` is what it made, with the
 * ETag of this part list: a Complete sent again, or one that raced another and found the upload,
 * its parts or the condition gone. Otherwise `error`, as it was.
 */
async function completedBefore(ctx: AppContext, ref: ObjectRef, uploadId: string, etag: string, error: unknown): Promise<XmlAnswer> {
  const code = error instanceof S3Error || isStowageError(error) ? error.code : undefined;
  if (code === 'NoSuchUpload' || code === 'InvalidPart' || code === 'PreconditionFailed') {
    const attributes = (await ctx.backend.head(ref, ctx.clock()))?.attributes;
    if (attributes?.s3UploadId === uploadId && attributes.s3Etag === etag) return resultOf(ref, etag, attributes.s3Checksum);
  }
  throw error;
}

function resultOf(ref: ObjectRef, etag: string, checksum: S3ChecksumAttribute | undefined): XmlAnswer {
  return {
    root: 'CompleteMultipartUploadResult',
    body: { Location: `/${ref.type}/${ref.key}`, Bucket: ref.type, Key: ref.key, ETag: `"${etag}"`, ...checksumElements(checksum) },
  };
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
