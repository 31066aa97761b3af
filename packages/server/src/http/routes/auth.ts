import type { FastifyInstance } from 'fastify';
import { AUTH_TOKEN_PATH } from 'stowage-client/protocol';
import { scopeOf, verifyApiKey } from '../../auth/api-keys.js';
import { fail } from '../../errors.js';
import type { AppContext } from '../context.js';

type TokenRequestBody = Record<string, unknown> | undefined;

// The Python Auth refresh flow sends grant_type=refresh_token with the secret as refresh_token;
// client-credentials callers send client_secret instead.
const GRANT_TYPES = new Set(['refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer']);

/** POST /auth/token: exchanges an API key (client_id + secret) for a JWT. */
export function registerAuthRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.post<{ Body: TokenRequestBody }>(AUTH_TOKEN_PATH, { bodyLimit: 64 * 1024 }, async (request, reply) => {
    const body = request.body;
    if (!body || typeof body !== 'object') throw fail('InvalidRequestBody', 'Send {client_id, refresh_token, grant_type} as JSON');
    const clientId = body.client_id;
    const secret = body.refresh_token ?? body.client_secret;
    const grantType = body.grant_type ?? 'refresh_token';
    if (typeof grantType !== 'string' || !GRANT_TYPES.has(grantType)) {
      throw fail('InvalidRequestBody', `Unsupported grant_type; use ${[...GRANT_TYPES].join(' or ')}`);
    }
    if (typeof clientId !== 'string' || typeof secret !== 'string' || clientId === '' || secret === '') {
      throw fail('InvalidRequestBody', 'client_id and refresh_token (or client_secret) are required strings');
    }
    const key = await verifyApiKey(ctx.apiKeys, clientId, secret);
    if (!key) throw fail('InvalidCredentials');
    // The token names its key (revoking the key ends it) and carries the key's scope, if any.
    const { token, expiresAt } = await ctx.tokens.issue(key.tenant, ctx.config.issuedTokenTtlMs, {
      keyId: key.clientId,
      scope: scopeOf(key),
    });
    return reply
      .code(200)
      .header('cache-control', 'no-store')
      .send({
        access_token: token,
        id_token: token,
        token_type: 'Bearer',
        expires_in: Math.round((expiresAt - ctx.clock()) / 1000),
      });
  });
}
