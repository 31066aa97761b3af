import type { FastifyInstance, FastifyRequest } from 'fastify';
import { API_BASE_PATH, Routes } from 'stowage-client/protocol';
import { fail } from '../../errors.js';
import type { AppContext } from '../context.js';
import { OBJECT_READ_ROUTE } from '../fast-read.js';
import { parseExpiresIn } from '../query-params.js';
import { receiveUpload } from '../receive-upload.js';
import { KEY_AFTER_ROUTE_WORD, KEY_AFTER_TYPE, keyFromRawUrl, objectReadTarget } from '../request-key.js';
import { serveObject, serveObjectHead } from '../send-object.js';
import { writeConditionOf } from '../write-headers.js';

type TypeParams = { Params: { type: string } };

/**
 * GET/HEAD `{bucket}/get/{key}`, DELETE `{bucket}/{key}`, PUT `{bucket}/set/{key}`, where the
 * bucket is a storage type (the caller's own) or a named bucket; each asks Access first.
 */
export function registerObjectRoutes(app: FastifyInstance, ctx: AppContext): void {
  const readOf = (request: FastifyRequest) => {
    // The same parse of the path as the fast read path's (the route matched, so there is one).
    const target = objectReadTarget(request.url);
    if (!target) throw fail('RouteNotFound', `No route for ${request.method} ${request.url.split('?')[0]}`);
    return ctx.access.readable(request.principal, target.type, target.key);
  };

  app.get<TypeParams>(OBJECT_READ_ROUTE, { exposeHeadRoute: false }, async (request, reply) => {
    const { ref, check } = await readOf(request);
    return serveObject(ctx, request, reply, ref, { check });
  });

  app.head<TypeParams>(OBJECT_READ_ROUTE, async (request, reply) => {
    const { ref, check } = await readOf(request);
    return serveObjectHead(ctx, request, reply, ref, { check });
  });

  app.put<TypeParams & { Querystring: { expires_in?: string } }>(`${API_BASE_PATH}/:type/${Routes.set}/*`, async (request, reply) => {
    const key = keyFromRawUrl(request.url, KEY_AFTER_ROUTE_WORD);
    const ref = await ctx.access.ref(request.principal, request.params.type, key, 'object:write');
    const ttl = request.query.expires_in === undefined ? undefined : parseExpiresIn(request.query.expires_in, 0, Number.MAX_SAFE_INTEGER);
    return receiveUpload(ctx, request, reply, ref, request.headers['content-type'], ttl);
  });

  app.delete<TypeParams>(`${API_BASE_PATH}/:type/*`, async (request, reply) => {
    const key = keyFromRawUrl(request.url, KEY_AFTER_TYPE);
    const ref = await ctx.access.ref(request.principal, request.params.type, key, 'object:delete');
    await ctx.objects.delete(ref, writeConditionOf(request));
    return reply.code(204).send();
  });
}
