import type { FastifyInstance } from 'fastify';
import { API_BASE_PATH, USAGE_PATH, type UsageReport } from 'stowage-client/protocol';
import type { AppContext } from '../context.js';

/** Authenticated: GET `/usage` → what the caller stores and may store (a Stowage extension). */
export function registerUsageRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get(`${API_BASE_PATH}${USAGE_PATH}`, async (request): Promise<UsageReport> => {
    const usage = await ctx.objects.usage(request.tenant);
    const retained = await ctx.retention.retained(request.tenant);
    const { rateLimits } = ctx;
    return {
      tenant: usage.tenant,
      bytes: usage.bytes,
      objects: usage.objects,
      pendingUploadBytes: usage.pendingUploadBytes,
      quotaBytes: usage.quotaBytes,
      retainedBytes: retained.bytes,
      rateLimit: rateLimits.enabled ? { requestsPerSecond: rateLimits.perSecond, burst: rateLimits.burst } : null,
    };
  });
}
