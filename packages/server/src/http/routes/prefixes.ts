import type { FastifyInstance } from 'fastify';
import { API_BASE_PATH, COPY_PATH, MOVE_PATH, Routes } from 'stowage-client/protocol';
import { parseStorageType } from '../../storage/object-ref.js';
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
    const type = parseStorageType(request.params.type);
    const prefix = singleQueryValue(request.query.prefix, 'prefix') ?? '';
    const all = booleanQueryValue(request.query.all, 'all');
    return ctx.prefixes.deletePrefix(request.tenant, type, prefix, all);
  });

  app.post<TypeRequest>(`${API_BASE_PATH}/:type/${Routes.deleteMany}`, async (request) => {
    return ctx.prefixes.deleteMany(request.tenant, parseStorageType(request.params.type), request.body);
  });

  for (const [path, move] of [
    [COPY_PATH, false],
    [MOVE_PATH, true],
  ] as const) {
    app.post(`${API_BASE_PATH}${path}`, async (request) =>
      ctx.prefixes.transfer(request.tenant, request.body, writeConditionOf(request), move),
    );
  }
}

/** GET `{type}/usage?prefix=P`: the visible objects under a prefix, counted now. */
export function registerPrefixUsage(app: FastifyInstance, ctx: AppContext): void {
  app.get<TypeRequest>(`${API_BASE_PATH}/:type/${Routes.usage}`, async (request) => {
    const prefix = singleQueryValue(request.query.prefix, 'prefix') ?? '';
    return ctx.prefixes.usage(request.tenant, parseStorageType(request.params.type), prefix);
  });
}
