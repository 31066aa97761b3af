import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { fail } from '../errors.js';
import { parseContentType } from '../storage/media-type.js';
import type { ObjectInfo } from '../storage/model.js';
import type { ObjectRef } from '../storage/object-ref.js';
import type { PutOptions } from '../storage/object-service.js';
import { armBodyIdleTimer, bodyIdleError } from './body-idle.js';
import { closeUnlessKept } from './connection-reuse.js';
import type { AppContext } from './context.js';
import { continueOnFirstRead } from './expect-continue.js';
import { attributesOf } from './object-attributes.js';
import { expectedSha256Of, writeConditionOf } from './write-headers.js';

/**
 * Runs `work`, which reads the request body, with a signal that aborts it when the client
 * disconnects before its body is complete, or when the body goes `bodyIdleTimeoutMs` without a
 * byte (408 RequestTimeout), so the write stops and removes what it wrote. `100 Continue`, if the
 * client asked for it, goes out when the body is first read.
 */
export async function abortOnDisconnect<T>(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const aborted = new AbortController();
  const body = request.raw;
  const onClose = () => {
    if (!body.complete) aborted.abort(fail('RequestAborted'));
  };
  const idleMs = ctx.config.bodyIdleTimeoutMs;
  body.once('close', onClose);
  const disarmIdleTimer = armBodyIdleTimer(body, reply.raw, idleMs, () => aborted.abort(bodyIdleError(idleMs)));
  continueOnFirstRead(request, reply);
  try {
    return await work(aborted.signal);
  } finally {
    body.off('close', onClose);
    disarmIdleTimer();
  }
}

/** The answer to a completed upload: `{key, size, etag, sha256}`, with the ETag header. */
export function sendStored(reply: FastifyReply, key: string, info: ObjectInfo) {
  // A body left unread (a PUT on a completed upload) is read past only when small.
  closeUnlessKept(reply.request.raw, reply);
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
  requestedContentType: string | undefined,
  expiresInMs?: number,
  store: (body: Readable, options: PutOptions) => Promise<ObjectInfo> = (body, options) => ctx.objects.put(ref, body, options),
) {
  // Malformed conditional, checksum or type headers are refused before any of the body is read.
  const contentType = parseContentType(requestedContentType);
  const condition = writeConditionOf(request);
  const expectedSha256 = expectedSha256Of(request);
  const attributes = attributesOf(request);
  const length = request.headers['content-length'];
  const declared = length === undefined ? undefined : Number(length);
  const info = await abortOnDisconnect(ctx, request, reply, (signal) =>
    store(request.raw, {
      contentType,
      contentLength: declared,
      signal,
      condition,
      expectedSha256,
      expiresInMs,
      attributes,
    }),
  );
  ctx.metrics.bytesWritten.inc(info.size);
  return sendStored(reply, ref.key, info);
}
