import type { FastifyInstance } from 'fastify';
import { API_BASE_PATH, Routes, UrlKinds } from 'stowage-client/protocol';
import { fail } from '../../errors.js';
import { makeRef } from '../../storage/object-ref.js';
import type { AppContext } from '../context.js';
import { publicOrigin } from '../origin.js';
import { parseExpiresIn } from '../query-params.js';
import { receiveUpload } from '../receive-upload.js';
import { keyFromRawUrl } from '../request-key.js';
import { sendUrl } from './signed.js';

interface UploadRequest {
  Params: { type: string };
  Querystring: Record<string, string | undefined>;
}

const KEY_AFTER_ROUTE_WORD = 4;
const UPLOAD_PATH = `${API_BASE_PATH}/${UrlKinds.upload}/:type/*`;

/** Authenticated: GET `{type}/new_resumable_url/{key}` → a signed URL that accepts the upload. */
export function registerUploadUrlIssuing(app: FastifyInstance, ctx: AppContext): void {
  app.get<UploadRequest>(`${API_BASE_PATH}/:type/${Routes.uploadUrl}/*`, async (request, reply) => {
    const ref = makeRef(request.tenant, request.params.type, keyFromRawUrl(request.url, KEY_AFTER_ROUTE_WORD));
    const ttlMs = parseExpiresIn(request.query.expires_in, ctx.config.uploadUrlTtlMs, ctx.config.uploadUrlMaxTtlMs);
    const contentType = request.query.content_type || undefined;
    return sendUrl(reply, ctx.signedUrls.createUploadUrl(publicOrigin(ctx.config, request), ref, { ttlMs, contentType }));
  });
}

/** Unauthenticated: PUT of the whole body to an upload URL; the signature is the credential. */
export function registerUploads(app: FastifyInstance, ctx: AppContext): void {
  app.put<UploadRequest>(UPLOAD_PATH, async (request, reply) => {
    const grant = ctx.signedUrls.verifyUpload(request.params.type, keyFromRawUrl(request.url, KEY_AFTER_ROUTE_WORD), request.query);
    refusePartialContentRange(request.headers['content-range']);
    return receiveUpload(ctx, request, reply, grant.ref, grant.contentType ?? request.headers['content-type']);
  });
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PATCH'],
    url: UPLOAD_PATH,
    exposeHeadRoute: false,
    handler: async () => {
      throw fail('MethodNotAllowed', 'An upload URL serves only PUT', { allow: 'PUT' });
    },
  });
}

/** Until chunked sessions exist, only a Content-Range that covers the whole body is accepted. */
function refusePartialContentRange(header: string | undefined): void {
  if (header === undefined) return;
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim());
  if (match && Number(match[1]) === 0 && Number(match[2]) + 1 === Number(match[3])) return;
  throw fail('InvalidArgument', 'Chunked uploads are not supported on this server; PUT the whole body');
}
