import type { FastifyReply, FastifyRequest } from 'fastify';
import { fail } from '../errors.js';
import type { AppContext } from './context.js';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** onRequest hook for API routes: verifies the bearer JWT, records its tenant, spends one of its requests. */
export function createAuthenticate(ctx: AppContext) {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    if (!header) throw fail('MissingToken', undefined, { 'www-authenticate': 'Bearer' });
    const match = BEARER.exec(header);
    if (!match?.[1]) throw fail('InvalidToken', 'The Authorization header must be "Bearer <token>"', { 'www-authenticate': 'Bearer' });
    const principal = await ctx.tokens.verify(match[1]);
    request.tenant = principal.tenant;
    ctx.rateLimits.take(principal.tenant);
    ctx.tenantSlots.enter(principal.tenant, reply.raw);
  };
}
