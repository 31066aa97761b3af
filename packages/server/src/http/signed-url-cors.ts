import type { FastifyInstance } from 'fastify';
import { fail } from '../errors.js';
import { findCorsRule } from '../storage/cors-rules.js';
import type { AppContext } from './context.js';
import { applyCorsRules, preflightOf, sendPreflight, serverCorsRules, varyByOrigin } from './cors.js';

/**
 * CORS on signed download and upload URLs, which pages on other origins use without any other
 * credential: preflights and answers follow STOWAGE_CORS_ORIGINS. Unset, no answer carries a CORS
 * header and every preflight is refused, so browsers keep other origins' pages from reading them.
 */
export function registerSignedUrlCors(app: FastifyInstance, ctx: AppContext, paths: readonly string[]): void {
  const rules = serverCorsRules(ctx.config);
  if (rules.length > 0) {
    app.addHook('onRequest', (request, reply, done) => {
      if (request.method !== 'OPTIONS') {
        varyByOrigin(reply);
        applyCorsRules(request, reply, rules);
      }
      done();
    });
  }
  for (const url of paths) {
    app.options(url, async (request, reply) => {
      const preflight = preflightOf(request);
      const { origin, method } = preflight;
      if (origin === undefined || method === undefined)
        throw fail('InvalidArgument', 'A CORS preflight (OPTIONS) needs the Origin and Access-Control-Request-Method headers');
      varyByOrigin(reply, true);
      const rule = findCorsRule(rules, { origin, method, headers: preflight.headers });
      if (!rule)
        throw fail(
          'CorsForbidden',
          rules.length === 0
            ? 'Cross-origin requests are not enabled on this server (STOWAGE_CORS_ORIGINS)'
            : `Origin ${origin} may not send ${method}${preflight.headers.length > 0 ? ` with ${preflight.headers.join(', ')}` : ''} (STOWAGE_CORS_ORIGINS)`,
        );
      return sendPreflight(reply, rule, { origin, method, headers: preflight.headers });
    });
  }
}
