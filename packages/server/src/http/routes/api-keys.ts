import type { FastifyInstance } from 'fastify';
import { API_BASE_PATH } from 'stowage-client/protocol';
import { apiKeyInfo, createApiKey, parseKeyScope } from '../../auth/api-keys.js';
import { isPlainText } from '../../auth/user-id.js';
import { fail } from '../../errors.js';
import { requireOwnRights } from '../../storage/access.js';
import { isStorageTypeOrBucketName } from '../../storage/bucket-names.js';
import type { AppContext } from '../context.js';
import { objectOf } from './bucket-views.js';

const KEYS_PATH = `${API_BASE_PATH}/keys`;
const MAX_NAME_BYTES = 200;

/**
 * A user's own API keys (Stowage extensions): list them, create one (perhaps scoped: read-only,
 * one bucket, one prefix), revoke one. Only credentials with the user's own rights manage keys:
 * a scoped key cannot make a wider one, or undo its own limits.
 */
export function registerApiKeyRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get(KEYS_PATH, async (request) => {
    const user = requireOwnRights(request.principal, 'Listing API keys');
    return { keys: (await ctx.apiKeys.listFor(user)).map(apiKeyInfo) };
  });

  app.post<{ Body: unknown }>(KEYS_PATH, async (request, reply) => {
    const user = requireOwnRights(request.principal, 'Creating an API key');
    const { name, ...scopeFields } = request.body === undefined || request.body === null ? {} : objectOf(request.body, 'The body');
    if (name !== undefined && (typeof name !== 'string' || name === '' || !isPlainText(name, MAX_NAME_BYTES)))
      throw fail('InvalidArgument', `"name" is a text of 1-${MAX_NAME_BYTES} bytes without control characters`);
    const scope = parseKeyScope(scopeFields);
    if (scope?.bucket !== undefined && !isStorageTypeOrBucketName(scope.bucket))
      throw fail('InvalidArgument', `"bucket" is a storage type (data, tmp, result) or a bucket's name, not "${scope.bucket}"`);
    const createdAt = ctx.clock();
    const { clientId, secret } = await createApiKey(ctx.apiKeys, user, ctx.sealer, createdAt, { name, scope });
    reply.code(201).header('cache-control', 'no-store');
    return { clientId, clientSecret: secret, name: name ?? null, scope: scope ?? null, createdAt, revokedAt: null };
  });

  app.delete<{ Params: { clientId: string } }>(`${KEYS_PATH}/:clientId`, async (request, reply) => {
    const user = requireOwnRights(request.principal, 'Revoking an API key');
    const { clientId } = request.params;
    if (!isPlainText(clientId, 128) || !(await ctx.apiKeys.revoke(user, clientId, ctx.clock())))
      throw fail('NoSuchApiKey', `You have no API key ${JSON.stringify(clientId.slice(0, 128))}`);
    return reply.code(204).send();
  });
}
