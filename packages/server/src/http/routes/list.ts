import type { FastifyInstance } from 'fastify';
import { API_BASE_PATH, Headers, MAX_LIST_LIMIT, Routes } from 'stowage-client/protocol';
import { fail } from '../../errors.js';
import type { AppContext } from '../context.js';
import { booleanQueryValue, singleQueryValue } from '../query-params.js';

interface ListRequest {
  Params: { type: string };
  Querystring: { prefix?: string | string[]; limit?: string; delimiter?: string | string[]; details?: string | string[] };
}

/**
 * GET `{bucket}/list?prefix=P[&limit=N]` (a storage type or a named bucket), paged with the X-NEXT header both ways: a JSON array of
 * keys. With `delimiter=D` or `details=true` (Stowage extensions), `{objects, folders}`.
 */
export function registerListRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<ListRequest>(`${API_BASE_PATH}/:type/${Routes.list}`, async (request, reply) => {
    const prefix = first(request.query.prefix) ?? '';
    const { tenant, type } = await ctx.access.locate(request.principal, request.params.type, 'bucket:list', prefix);
    const limit = parseLimit(request.query.limit);
    const token = request.headers[Headers.next];
    const pageToken = typeof token === 'string' && token !== '' ? token : undefined;
    const delimiter = singleQueryValue(request.query.delimiter, 'delimiter');
    const details = booleanQueryValue(request.query.details, 'details');
    // Details (metadata, content type, headers) are what a read of each key gives.
    if (details) await ctx.access.locateUnder(request.principal, request.params.type, 'object:read', prefix);
    if (delimiter !== undefined || details) {
      const { next, ...page } = await ctx.prefixes.listFolder(tenant, type, { prefix, delimiter, details, pageToken, limit });
      if (next) reply.header(Headers.next, next);
      return reply.code(200).type('application/json').send(page);
    }
    const page = await ctx.objects.list(tenant, type, { prefix, pageToken, limit });
    if (page.next) reply.header(Headers.next, page.next);
    return reply.code(200).type('application/json').send(page.keys);
  });
}

// The Python client never repeats it; a repeated prefix has always meant the first one.
function first(value: string | string[] | undefined): string | undefined {
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
