import type { FastifyReply, FastifyRequest } from 'fastify';
import { fail } from '../errors.js';
import { ANONYMOUS } from '../storage/bucket-model.js';
import type { AppContext } from './context.js';

/**
 * Admits a request without credentials as the anonymous principal. It is counted by the rate
 * limits and request slots like any request, under a key of its client address (no user id can
 * be one: user ids have no control characters). Its `tenant` throws MissingToken when read, so a
 * route that acts for a user refuses it instead of acting for no one.
 */
export function admitAnonymous(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): void {
  request.principal = ANONYMOUS;
  Object.defineProperty(request, 'tenant', {
    configurable: true,
    get() {
      throw fail('MissingToken', undefined, { 'www-authenticate': 'Bearer' });
    },
  });
  const key = `\u0000anonymous ${request.ip}`;
  ctx.rateLimits.take(key);
  ctx.tenantSlots.enter(key, reply.raw);
}
