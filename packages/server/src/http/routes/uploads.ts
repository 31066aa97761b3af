import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_BASE_PATH, Routes, UrlKinds } from 'stowage-client/protocol';
import { fail } from '../../errors.js';
import { parseContentRange } from '../../storage/byte-ranges.js';
import { parseContentType } from '../../storage/media-type.js';
import type { UploadSession } from '../../storage/model.js';
import type { UploadStep } from '../../storage/object-service.js';
import { rangeHeader } from '../../storage/upload-range.js';
import type { AppContext } from '../context.js';
import { attributesOf } from '../object-attributes.js';
import { publicOrigin } from '../origin.js';
import { parseExpiresIn } from '../query-params.js';
import { abortOnDisconnect, receiveUpload, sendStored } from '../receive-upload.js';
import { keyFromRawUrl } from '../request-key.js';
import { expectedSha256Of, writeConditionOf } from '../write-headers.js';
import { sendUrl } from './signed.js';

interface UploadRequest {
  Params: { type: string };
  Querystring: Record<string, string | undefined>;
}

const KEY_AFTER_ROUTE_WORD = 4;
export const UPLOAD_PATH = `${API_BASE_PATH}/${UrlKinds.upload}/:type/*`;

/** GET `{bucket}/new_resumable_url/{key}` → a signed URL that accepts the upload, for whoever may write the key. */
export function registerUploadUrlIssuing(app: FastifyInstance, ctx: AppContext): void {
  app.get<UploadRequest>(`${API_BASE_PATH}/:type/${Routes.uploadUrl}/*`, async (request, reply) => {
    const key = keyFromRawUrl(request.url, KEY_AFTER_ROUTE_WORD);
    const ref = await ctx.access.ref(request.principal, request.params.type, key, 'object:write');
    const ttlMs = parseExpiresIn(request.query.expires_in, ctx.config.uploadUrlTtlMs, ctx.config.uploadUrlMaxTtlMs);
    const objectTtl = request.query.object_ttl;
    const objectTtlSeconds = objectTtl === undefined ? undefined : parseExpiresIn(objectTtl, 0, Number.MAX_SAFE_INTEGER) / 1000;
    const contentType = request.query.content_type || undefined;
    return sendUrl(reply, ctx.signedUrls.createUploadUrl(publicOrigin(ctx.config, request), ref, { ttlMs, contentType, objectTtlSeconds }));
  });
}

/**
 * Unauthenticated, the signature being the credential: PUT of the whole body, or the GCS
 * resumable protocol — chunks with `Content-Range: bytes A-B/TOTAL` (or `/*`) answered 308 with
 * `Range: bytes=0-N` until the last byte arrives (200), status queries with `bytes STAR/TOTAL`,
 * and DELETE to cancel.
 */
export function registerUploads(app: FastifyInstance, ctx: AppContext): void {
  // The URL's tenant pays for the request: whoever holds an upload URL spends its owner's rate.
  const grantOf = (request: FastifyRequest<UploadRequest>, reply: FastifyReply) => {
    const grant = ctx.signedUrls.verifyUpload(request.params.type, keyFromRawUrl(request.url, KEY_AFTER_ROUTE_WORD), request.query);
    ctx.rateLimits.take(grant.ref.tenant);
    ctx.tenantSlots.enter(grant.ref.tenant, reply.raw);
    return grant;
  };

  app.put<UploadRequest>(UPLOAD_PATH, async (request, reply) => {
    const grant = grantOf(request, reply);
    const header = request.headers['content-range'];
    const contentType = grant.contentType ?? parseContentType(request.headers['content-type']);
    const session = await ctx.objects.openUpload({ ...grant, contentType });
    if (header !== undefined) return receiveChunk(ctx, request, reply, session, header, grant.objectTtlMs);
    return receiveUpload(ctx, request, reply, grant.ref, contentType, grant.objectTtlMs, (body, options) =>
      ctx.objects.putUpload(session, body, options),
    );
  });

  app.delete<UploadRequest>(UPLOAD_PATH, async (request, reply) => {
    await ctx.objects.cancelUpload(grantOf(request, reply));
    return reply.code(204).send();
  });

  app.route({
    method: ['GET', 'HEAD', 'POST', 'PATCH'],
    url: UPLOAD_PATH,
    exposeHeadRoute: false,
    handler: async () => {
      throw fail('MethodNotAllowed', 'An upload URL serves only PUT (and DELETE to cancel)', { allow: 'PUT, DELETE' });
    },
  });
}

async function receiveChunk(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  session: UploadSession,
  header: string,
  objectTtlMs: number | undefined,
) {
  const range = parseContentRange(header);
  // An upload URL stores once: after completion every PUT gets the final status, as on GCS.
  if (session.completed) return sendStored(reply, session.ref.key, session.completed);
  const finish = {
    condition: writeConditionOf(request),
    expectedSha256: expectedSha256Of(request),
    objectTtlMs,
    attributes: attributesOf(request),
  };
  const declared = request.headers['content-length'];
  let step: UploadStep;
  if (range.kind === 'query') {
    if (declared !== undefined && declared !== '0') throw fail('InvalidContentRange', 'A status query (bytes */TOTAL) has an empty body');
    step = await ctx.objects.uploadStatus(session.uploadId, range.total, finish);
  } else {
    const length = range.end - range.start + 1;
    if (declared === undefined || Number(declared) !== length) {
      throw fail('InvalidContentRange', `Content-Range covers ${length} bytes but Content-Length is ${declared ?? 'missing'}`);
    }
    step = await abortOnDisconnect(ctx, request, reply, (signal) =>
      ctx.objects.appendChunk(session, { ...range, body: request.raw, signal }, finish),
    );
    ctx.metrics.bytesWritten.inc(length);
  }
  if (step.done) return sendStored(reply, session.ref.key, step.info);
  // 308 "Resume Incomplete" as GCS sends it: no Location, so clients do not follow it as a redirect.
  return reply.code(308).headers(rangeHeader(step.session.received)).send();
}
