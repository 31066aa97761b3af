import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ObjectInfo } from '../backends/backend.js';
import type { ObjectRef } from '../storage/object-ref.js';
import type { PutOptions } from '../storage/object-service.js';
import type { AppContext } from './context.js';
import { expectedSha256Of, writeConditionOf } from './write-headers.js';

/**
 * Runs `work` with a signal that aborts when the client disconnects before its body is complete,
 * so the write stops and removes what it wrote.
 */
export async function abortOnDisconnect<T>(request: FastifyRequest, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const aborted = new AbortController();
  const onClose = () => {
    if (!request.raw.complete) aborted.abort();
  };
  request.raw.once('close', onClose);
  try {
    return await work(aborted.signal);
  } finally {
    request.raw.off('close', onClose);
  }
}

/** The answer to a completed upload: `{key, size, etag, sha256}`, with the ETag header. */
export function sendStored(reply: FastifyReply, key: string, info: ObjectInfo) {
  // A body left unread (a PUT on a completed upload) must not be drained: answer, then close.
  if (!reply.request.raw.complete) reply.header('connection', 'close');
  return reply.code(200).header('etag', info.etag).send({ key, size: info.size, etag: info.etag, sha256: info.sha256 });
}

/**
 * Streams the request body into the object at `ref`. A client that disconnects mid-body aborts
 * the write: the previous value stays, no temp file remains.
 */
export async function receiveUpload(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  ref: ObjectRef,
  contentType: string | undefined,
  expiresInMs?: number,
  store: (body: Readable, options: PutOptions) => Promise<ObjectInfo> = (body, options) => ctx.objects.put(ref, body, options),
) {
  // Malformed conditional or checksum headers are refused before any of the body is read.
  const condition = writeConditionOf(request);
  const expectedSha256 = expectedSha256Of(request);
  const length = request.headers['content-length'];
  const info = await abortOnDisconnect(request, (signal) =>
    store(request.raw, {
      contentType,
      contentLength: length === undefined ? undefined : Number(length),
      signal,
      condition,
      expectedSha256,
      expiresInMs,
    }),
  );
  ctx.metrics.bytesWritten.inc(info.size);
  return sendStored(reply, ref.key, info);
}
