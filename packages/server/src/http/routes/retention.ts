import type { FastifyInstance } from 'fastify';
import { API_BASE_PATH, Headers, MAX_LIST_LIMIT, Routes } from 'stowage-client/protocol';
import { fail } from '../../errors.js';
import { validateKey } from '../../storage/object-ref.js';
import type { AppContext } from '../context.js';
import { singleQueryValue } from '../query-params.js';

type TypeRequest = { Params: { type: string }; Querystring: Record<string, string | string[] | undefined>; Body: unknown };

/**
 * Undo (Stowage extensions): `GET {type}/versions?prefix=P` lists the versions retention keeps,
 * `POST {type}/restore` puts one back (`{key, versionId?}`) or a whole prefix as it was at a time
 * (`{prefix, at}`).
 */
export function registerRetentionRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<TypeRequest>(`${API_BASE_PATH}/:type/${Routes.versions}`, async (request, reply) => {
    const prefix = singleQueryValue(request.query.prefix, 'prefix') ?? '';
    // A listing of versions tells what a read of each would: sizes, checksums, times.
    const { tenant, type } = await ctx.access.locate(request.principal, request.params.type, 'bucket:list', prefix);
    await ctx.access.locateUnder(request.principal, request.params.type, 'object:read', prefix);
    const token = request.headers[Headers.next];
    const pageToken = typeof token === 'string' && token !== '' ? token : undefined;
    const page = await ctx.retention.versions(tenant, type, {
      prefix,
      pageToken,
      limit: parseLimit(singleQueryValue(request.query.limit, 'limit')),
    });
    if (page.next) reply.header(Headers.next, page.next);
    return page;
  });

  app.post<TypeRequest>(`${API_BASE_PATH}/:type/${Routes.restore}`, async (request) => {
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw fail('InvalidRequestBody', 'The body must be a JSON object');
    const { key, versionId, prefix, at } = body as Record<string, unknown>;
    const name = request.params.type;
    if (typeof key === 'string' && prefix === undefined && at === undefined) {
      if (versionId !== undefined && (typeof versionId !== 'string' || versionId === ''))
        throw fail('InvalidRequestBody', '"versionId" must be a version id from GET versions');
      validateKey(key);
      // A restore reads the version and writes the key.
      await ctx.access.ref(request.principal, name, key, 'object:read');
      const ref = await ctx.access.ref(request.principal, name, key, 'object:write');
      return ctx.retention.restoreKey(ref, versionId as string | undefined);
    }
    if (typeof prefix === 'string' && typeof at === 'string' && key === undefined && versionId === undefined) {
      const instant = Date.parse(at);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(at) || Number.isNaN(instant))
        throw fail('InvalidRequestBody', '"at" must be an ISO 8601 instant, e.g. 2026-12-06T14:00:00Z');
      // Every key under the prefix may be read, rewritten, or deleted (one that did not exist then).
      const { tenant, type } = await ctx.access.locate(request.principal, name, 'bucket:list', prefix);
      for (const action of ['object:read', 'object:write', 'object:delete'] as const)
        await ctx.access.locateUnder(request.principal, name, action, prefix);
      return ctx.retention.restorePrefix(tenant, type, prefix, instant);
    }
    throw fail('InvalidRequestBody', 'The body must be {"key": K, "versionId"?: V} or {"prefix": P, "at": ISO-time}');
  });
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return MAX_LIST_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
    throw fail('InvalidArgument', `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  return limit;
}
