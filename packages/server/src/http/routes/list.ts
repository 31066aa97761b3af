import type { FastifyInstance } from 'fastify';
import { API_BASE_PATH, Headers, MAX_LIST_LIMIT, Routes } from 'stowage-client/protocol';
import { fail } from '../../errors.js';
import { parseStorageType } from '../../storage/object-ref.js';
import type { AppContext } from '../context.js';

interface ListRequest {
  Params: { type: string };
  Querystring: { prefix?: string | string[]; limit?: string };
}

/** GET `{type}/list?prefix=P[&limit=N]`, paged with the X-NEXT header both ways. */
export function registerListRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<ListRequest>(`${API_BASE_PATH}/:type/${Routes.list}`, async (request, reply) => {
    const type = parseStorageType(request.params.type);
    const prefix = single(request.query.prefix) ?? '';
    const limit = parseLimit(request.query.limit);
    const token = request.headers[Headers.next];
    const page = await ctx.objects.list(request.tenant, type, {
      prefix,
      pageToken: typeof token === 'string' && token !== '' ? token : undefined,
      limit,
    });
    if (page.next) reply.header(Headers.next, page.next);
    return reply.code(200).type('application/json').send(page.keys);
  });
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return MAX_LIST_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw fail('InvalidArgument', `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  }
  return limit;
}
