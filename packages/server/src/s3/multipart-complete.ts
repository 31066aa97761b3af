import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../http/context.js';
import type { ObjectRef } from '../storage/model.js';
import type { CompletedUpload, RequestedPart } from '../storage/multipart-service.js';
import { checksumElements } from './checksum-answers.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, checksumElement, checksumHeader, parseType } from './checksums.js';
import { s3Errors } from './errors.js';
import { single } from './header-value.js';
import { sendLongXml, type XmlAnswer } from './long-answer.js';
import { s3WriteCondition } from './object-requests.js';
import { parseXmlBody, sendXml } from './xml.js';

/**
 * CompleteMultipartUpload: the request's part list and checksum headers, handed to the domain
 * (storage/multipart-completion.ts). A completion that streams for long is answered as S3 does,
 * with spaces until its document (long-answer.ts).
 */
export async function completeMultipartUpload(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  ref: ObjectRef,
  query: URLSearchParams,
  xml: string,
) {
  const parts = requestedParts(xml);
  const completion = await ctx.multipart.complete(ref, query.get('uploadId') ?? '', {
    parts,
    condition: () => s3WriteCondition(ctx, request, ref),
    checksum: {
      type: () => parseType(single(request.headers['x-amz-checksum-type'])),
      value: (algorithm) => single(request.headers[checksumHeader(algorithm)]),
    },
    onCleanupError: (error) => request.log.warn({ err: error }, 'could not remove a completed multipart upload'),
  });
  if ('result' in completion) {
    const done = resultOf(ref, completion.result);
    if (done.headers) reply.headers(done.headers);
    return sendXml(reply, done.root, done.body);
  }
  const answer = completion.finishing.then((result) => {
    ctx.metrics.bytesWritten.inc(result.bytesWritten);
    return resultOf(ref, result);
  });
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

/** The checksums a `<Part>` element of CompleteMultipartUpload names (`ChecksumCRC32`…). */
function listedChecksums(part: Record<string, unknown>): Map<ChecksumAlgorithm, string> {
  const found = new Map<ChecksumAlgorithm, string>();
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = part[checksumElement(algorithm)];
    if (value !== undefined) found.set(algorithm, String(value).trim());
  }
  return found;
}

function resultOf(ref: ObjectRef, result: CompletedUpload): XmlAnswer {
  return {
    root: 'CompleteMultipartUploadResult',
    body: {
      Location: `/${ref.type}/${ref.key}`,
      Bucket: ref.type,
      Key: ref.key,
      ETag: `"${result.etag}"`,
      ...checksumElements(result.checksum),
    },
    headers: result.versionId ? { 'x-amz-version-id': result.versionId } : undefined,
  };
}
