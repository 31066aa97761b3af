import type { FastifyInstance } from 'fastify';
import { API_BASE_PATH, Routes } from 'stowage-client/protocol';
import { makeRef } from '../../storage/object-ref.js';
import type { AppContext } from '../context.js';
import { receiveUpload } from '../receive-upload.js';
import { keyFromRawUrl } from '../request-key.js';
import { sendObject, setObjectHeaders } from '../send-object.js';

type TypeParams = { Params: { type: string } };

// Path segments before the key: storage, v1, {type}, and the route word when there is one.
const KEY_AFTER_ROUTE_WORD = 4;
const KEY_AFTER_TYPE = 3;

/** GET/HEAD `{type}/get/{key}`, DELETE `{type}/{key}`, PUT `{type}/set/{key}`. */
export function registerObjectRoutes(app: FastifyInstance, ctx: AppContext): void {
  const refOf = (tenant: string, type: string, url: string, segments: number) => makeRef(tenant, type, keyFromRawUrl(url, segments));

  app.get<TypeParams>(`${API_BASE_PATH}/:type/${Routes.get}/*`, { exposeHeadRoute: false }, async (request, reply) => {
    const ref = refOf(request.tenant, request.params.type, request.url, KEY_AFTER_ROUTE_WORD);
    const found = await ctx.objects.read(ref);
    ctx.metrics.bytesRead.inc(found.info.size);
    return sendObject(reply, found, ref.type);
  });

  app.head<TypeParams>(`${API_BASE_PATH}/:type/${Routes.get}/*`, async (request, reply) => {
    const ref = refOf(request.tenant, request.params.type, request.url, KEY_AFTER_ROUTE_WORD);
    const info = await ctx.objects.head(ref);
    return setObjectHeaders(reply, info, ref.type).code(200).send();
  });

  app.put<TypeParams>(`${API_BASE_PATH}/:type/${Routes.set}/*`, async (request, reply) => {
    const ref = refOf(request.tenant, request.params.type, request.url, KEY_AFTER_ROUTE_WORD);
    return receiveUpload(ctx, request, reply, ref, request.headers['content-type']);
  });

  app.delete<TypeParams>(`${API_BASE_PATH}/:type/*`, async (request, reply) => {
    const ref = refOf(request.tenant, request.params.type, request.url, KEY_AFTER_TYPE);
    await ctx.objects.delete(ref);
    return reply.code(204).send();
  });
}
