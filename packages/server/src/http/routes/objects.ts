import type { FastifyInstance } from 'fastify';
import { API_BASE_PATH, Routes } from 'stowage-client/protocol';
import { makeRef } from '../../storage/object-ref.js';
import type { AppContext } from '../context.js';
import { OBJECT_READ_ROUTE } from '../fast-read.js';
import { parseExpiresIn } from '../query-params.js';
import { receiveUpload } from '../receive-upload.js';
import { KEY_AFTER_ROUTE_WORD, KEY_AFTER_TYPE, keyFromRawUrl } from '../request-key.js';
import { serveObject, serveObjectHead } from '../send-object.js';
import { writeConditionOf } from '../write-headers.js';

type TypeParams = { Params: { type: string } };

/** GET/HEAD `{type}/get/{key}`, DELETE `{type}/{key}`, PUT `{type}/set/{key}`. */
export function registerObjectRoutes(app: FastifyInstance, ctx: AppContext): void {
  const refOf = (tenant: string, type: string, url: string, segments: number) => makeRef(tenant, type, keyFromRawUrl(url, segments));

  app.get<TypeParams>(OBJECT_READ_ROUTE, { exposeHeadRoute: false }, async (request, reply) => {
    const ref = refOf(request.tenant, request.params.type, request.url, KEY_AFTER_ROUTE_WORD);
    return serveObject(ctx, request, reply, ref);
  });

  app.head<TypeParams>(OBJECT_READ_ROUTE, async (request, reply) => {
    const ref = refOf(request.tenant, request.params.type, request.url, KEY_AFTER_ROUTE_WORD);
    return serveObjectHead(ctx, request, reply, ref);
  });

  app.put<TypeParams & { Querystring: { expires_in?: string } }>(`${API_BASE_PATH}/:type/${Routes.set}/*`, async (request, reply) => {
    const ref = refOf(request.tenant, request.params.type, request.url, KEY_AFTER_ROUTE_WORD);
    const ttl = request.query.expires_in === undefined ? undefined : parseExpiresIn(request.query.expires_in, 0, Number.MAX_SAFE_INTEGER);
    return receiveUpload(ctx, request, reply, ref, request.headers['content-type'], ttl);
  });

  app.delete<TypeParams>(`${API_BASE_PATH}/:type/*`, async (request, reply) => {
    const ref = refOf(request.tenant, request.params.type, request.url, KEY_AFTER_TYPE);
    await ctx.objects.delete(ref, writeConditionOf(request));
    return reply.code(204).send();
  });
}
