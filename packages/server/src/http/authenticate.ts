import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Principal } from '../auth/token-service.js';
import { fail } from '../errors.js';
import type { Principal as RequestPrincipal } from '../storage/bucket-model.js';
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
    request.principal = userPrincipal(principal);
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

/** Who a verified token speaks for, as the authorization decision (storage/access.ts) knows principals. */
export function userPrincipal(principal: Principal): RequestPrincipal {
  return { kind: 'user', id: principal.tenant, scope: principal.scope };
}

/**
 * The principal of an `Authorization` header whose token was verified before, without a promise
 * (the fast read path, fast-read.ts, takes only those); undefined otherwise. Throws as the hook
 * would (malformed header, expired token).
 */
export function knownPrincipal(ctx: AppContext, authorization: string | undefined): Principal | undefined {
  return ctx.tokens.verifiedBefore(bearerToken(authorization));
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
