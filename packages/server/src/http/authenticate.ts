import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Principal } from '../auth/token-service.js';
import { fail } from '../errors.js';
import type { AppContext } from './context.js';
import { admitAnonymous } from './principal.js';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * onRequest hook for API routes: verifies the bearer JWT, records its tenant, spends one of its
 * requests; a request without an Authorization header is anonymous (http/principal.ts). A token verified before is looked up without a promise (`done` style hook).
 */
export function createAuthenticate(ctx: AppContext) {
  const admit = (request: FastifyRequest, reply: FastifyReply, principal: Principal) => {
    request.tenant = principal.tenant;
    request.principal = { kind: 'user', id: principal.tenant, scope: principal.scope };
    ctx.rateLimits.take(principal.tenant);
    ctx.tenantSlots.enter(principal.tenant, reply.raw);
  };
  return function authenticate(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    let token: string;
    try {
      // No credentials: an anonymous request, which only public buckets and objects answer.
      if (request.headers.authorization === undefined) {
        admitAnonymous(ctx, request, reply);
        done();
        return;
      }
      token = bearerToken(request.headers.authorization);
      const known = ctx.tokens.verifiedBefore(token);
      if (known) {
        admit(request, reply, known);
        done();
        return;
      }
    } catch (error) {
      done(error as Error);
      return;
    }
    ctx.tokens.verify(token).then(
      (principal) => {
        try {
          admit(request, reply, principal);
        } catch (error) {
          done(error as Error);
          return;
        }
        done();
      },
      (error: Error) => done(error),
    );
  };
}

/** The token of an `Authorization: Bearer <token>` header; undefined for any other header. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}

function bearerToken(header: string | undefined): string {
  if (!header) throw fail('MissingToken', undefined, { 'www-authenticate': 'Bearer' });
  const token = bearerTokenOf(header);
  if (!token) throw fail('InvalidToken', 'The Authorization header must be "Bearer <token>"', { 'www-authenticate': 'Bearer' });
  return token;
}
