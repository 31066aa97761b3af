import type { FastifyInstance } from 'fastify';
import { API_BASE_PATH, COPY_PATH, MOVE_PATH, Routes } from 'stowage-client/protocol';
import type { Action } from '../../storage/bucket-model.js';
import { type Endpoint, parseCopyRequest } from '../../storage/copy-request.js';
import { parseDeleteMany } from '../../storage/prefix-service.js';
import type { AppContext } from '../context.js';
import { booleanQueryValue, singleQueryValue } from '../query-params.js';
import { writeConditionOf } from '../write-headers.js';

type TypeRequest = { Params: { type: string }; Querystring: Record<string, string | string[] | undefined> };

/** Room for 1000 keys of 1024 bytes each in a `delete_many` body, and their JSON. */
export const BATCH_BODY_LIMIT = 4 * 1024 * 1024;

/**
 * POST `{type}/delete_prefix`, `{type}/delete_many`, `/copy` and `/move` (Stowage extensions):
 * operations on many keys, each a batch of index transactions that never moves a blob's bytes.
 */
export function registerPrefixOperations(app: FastifyInstance, ctx: AppContext): void {
  app.post<TypeRequest>(`${API_BASE_PATH}/:type/${Routes.deletePrefix}`, async (request) => {
    const prefix = singleQueryValue(request.query.prefix, 'prefix') ?? '';
    const all = booleanQueryValue(request.query.all, 'all');
    const { tenant, type } = await ctx.access.locateUnder(request.principal, request.params.type, 'object:delete', prefix);
    return ctx.prefixes.deletePrefix(tenant, type, prefix, all);
  });

  app.post<TypeRequest>(`${API_BASE_PATH}/:type/${Routes.deleteMany}`, async (request) => {
    const keys = parseDeleteMany(request.body);
    const location = await ctx.access.unjudged(request.principal, request.params.type);
    // Each key is judged on its own: a grant of a prefix (or a key's scope) covers the keys under it only.
    const refused = keys.filter((key) => !ctx.access.allows(request.principal, location, 'object:delete', key));
    return ctx.prefixes.deleteKeys(location.tenant, location.type, keys, new Set(refused));
  });

  for (const [path, move] of [
    [COPY_PATH, false],
    [MOVE_PATH, true],
  ] as const) {
    app.post(`${API_BASE_PATH}${path}`, async (request) => {
      const parsed = parseCopyRequest(request.body);
      const { source, destination } = parsed;
      const judge = (endpoint: Endpoint, action: Action) =>
        'key' in endpoint
          ? ctx.access.locate(request.principal, endpoint.type, action, endpoint.key)
          : ctx.access.locateUnder(request.principal, endpoint.type, action, endpoint.prefix);
      // A prefix is read by listing it and reading every key under it; a key by reading it. A move
      // deletes what it read.
      if ('prefix' in source) await ctx.access.locate(request.principal, source.type, 'bucket:list', source.prefix);
      const from = await judge(source, 'object:read');
      if (move) await judge(source, 'object:delete');
      const to = await judge(destination, 'object:write');
      return ctx.prefixes.transfer(from, to, parsed, writeConditionOf(request), move);
    });
  }
}

/** GET `{type}/usage?prefix=P`: the visible objects under a prefix, counted now. */
export function registerPrefixUsage(app: FastifyInstance, ctx: AppContext): void {
  app.get<TypeRequest>(`${API_BASE_PATH}/:type/${Routes.usage}`, async (request) => {
    const prefix = singleQueryValue(request.query.prefix, 'prefix') ?? '';
    const { tenant, type } = await ctx.access.locate(request.principal, request.params.type, 'bucket:list', prefix);
    return ctx.prefixes.usage(tenant, type, prefix);
  });
}
