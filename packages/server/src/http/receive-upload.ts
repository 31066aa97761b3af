import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ObjectRef } from '../storage/object-ref.js';
import type { AppContext } from './context.js';
import { expectedSha256Of, writeConditionOf } from './write-headers.js';

/**
 * Streams the request body into the object at `ref` and answers `{key, size, etag}`. A client
 * that disconnects mid-body aborts the write: the previous value stays, no temp file remains.
 */
export async function receiveUpload(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  ref: ObjectRef,
  contentType: string | undefined,
  expiresInMs?: number,
) {
  const aborted = new AbortController();
  const onClose = () => {
    if (!request.raw.complete) aborted.abort();
  };
  request.raw.once('close', onClose);
  try {
    // Refuse a failing precondition before the body is read, not after gigabytes arrived.
    writeConditionOf(request);
    const length = request.headers['content-length'];
    const info = await ctx.objects.put(ref, request.raw, {
      contentType,
      contentLength: length === undefined ? undefined : Number(length),
      signal: aborted.signal,
      condition: writeConditionOf(request),
      expectedSha256: expectedSha256Of(request),
      expiresInMs,
    });
    ctx.metrics.bytesWritten.inc(info.size);
    return reply.code(200).header('etag', info.etag).send({ key: ref.key, size: info.size, etag: info.etag, sha256: info.sha256 });
  } finally {
    request.raw.off('close', onClose);
  }
}
