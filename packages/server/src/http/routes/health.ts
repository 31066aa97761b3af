import type { FastifyInstance } from 'fastify';
import { fail, isStowageError } from '../../errors.js';
import type { AppContext } from '../context.js';

/** Liveness, readiness and Prometheus metrics; no auth, for orchestrators and scrapers. */
export function registerHealthRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async () => {
    if (ctx.lifecycle.draining) throw fail('ServiceUnavailable', 'The server is shutting down');
    try {
      await ctx.objects.checkReady();
    } catch (error) {
      // An index or blob store that does not answer says so itself, with its Retry-After.
      if (isStowageError(error) && error.status === 503) throw error;
      throw fail('ServiceUnavailable', `The storage backend is not ready: ${(error as Error).message}`);
    }
    return { status: 'ready' };
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
}
