// PutObject and DeleteObject.
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../http/context.js';
import { abortOnDisconnect } from '../http/receive-upload.js';
import type { ObjectAcl } from '../storage/model.js';
import { contentOf } from '../storage/object-attributes.js';
import { md5Etag, withMd5Etag } from '../storage/object-etags.js';
import type { ObjectRef } from '../storage/object-ref.js';
import { principalOf } from './authenticate.js';
import { checksumHeaders } from './checksum-answers.js';
import { assertSupportedWrite, contentTypeOf, s3AttributesOf, s3WriteCondition } from './object-requests.js';
import { payloadOf } from './payload.js';

/** PutObject: If-None-Match: * and If-Match checked with the commit; metadata; digests checked. */
export async function putObject(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, ref: ObjectRef, acl?: ObjectAcl) {
  assertSupportedWrite(request);
  const payload = payloadOf(request, principalOf(request));
  const condition = await s3WriteCondition(ctx, request, ref);
  const attributes = s3AttributesOf(request, acl);
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
  if (info.versionId) reply.header('x-amz-version-id', info.versionId);
  return reply
    .code(200)
    .header('etag', md5Etag(info))
    .headers(checksumHeaders(contentOf(info.attributes).s3Checksum))
    .send();
}

export async function deleteObject(ctx: AppContext, reply: FastifyReply, ref: ObjectRef) {
  const deleted = await ctx.objects.delete(ref).catch((error: unknown) => {
    // S3 answers 204 whether or not the key existed.
    if ((error as { code?: string }).code !== 'NoSuchKey') throw error;
    return undefined;
  });
  // A value kept by retention: the delete marker that now stands for the key, as S3 names it.
  if (deleted?.markerVersionId) reply.header('x-amz-delete-marker', 'true').header('x-amz-version-id', deleted.markerVersionId);
  return reply.code(204).send();
}
