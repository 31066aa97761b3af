import type { FastifyReply, FastifyRequest } from 'fastify';
import { fail } from '../errors.js';
import type { Metrics } from './metrics.js';

/** Routes that answer whatever the load: orchestrators and scrapers must always get through. */
const ALWAYS_ADMITTED = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Admission control (called by the onRequest hook of app.ts): at most `maxInFlight` requests are served at once. Past it, a request is
 * refused at once with 503 Overloaded and `Retry-After` (the Python client retries those),
 * before auth or any byte of its body is read, so that the requests already admitted stay fast
 * and a new client learns where it stands in milliseconds instead of queueing for seconds.
 */
export function createAdmission(options: {
  maxInFlight: number;
  metrics: Metrics;
}): (request: FastifyRequest, reply: FastifyReply) => void {
  let inFlight = 0;
  const { metrics } = options;
  const leave = () => {
    inFlight--;
    metrics.inFlight.set(inFlight);
  };
  return (request, reply) => {
    if (ALWAYS_ADMITTED.has(request.url.split('?')[0] ?? '')) return;
    if (inFlight >= options.maxInFlight) {
      metrics.refused.inc();
      throw fail('Overloaded', `The server is serving ${inFlight} requests, its limit`, { 'retry-after': '1' });
    }
    inFlight++;
    metrics.inFlight.set(inFlight);
    // 'close' fires once the response is done or its connection dropped, whatever happened.
    reply.raw.once('close', leave);
  };
}
