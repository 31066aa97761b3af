import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_BASE_PATH, explainInvalidKey, Headers, isStorageType, Routes } from 'stowage-client/protocol';
import { INLINE_MAX_BYTES, type ObjectRef } from '../storage/model.js';
import type { Admission } from './admission.js';
import { bearerTokenOf } from './authenticate.js';
import type { AppContext } from './context.js';
import { KEY_AFTER_ROUTE_WORD, keyFromRawUrl } from './request-key.js';
import { objectHeaders } from './send-object.js';

const PREFIX = `${API_BASE_PATH}/`;
/** The route pattern the metrics give GET and HEAD of an object, whichever path served them. */
export const OBJECT_READ_ROUTE = `${API_BASE_PATH}/:type/${Routes.get}/*`;
/** Request headers that ask for more than the whole object as it stands (Fastify's route does that). */
const NOT_PLAIN = ['range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'transfer-encoding', 'expect'];

/** False when declined at once; else whether it answered (false: declined after the lookup, nothing changed). */
export type FastRead = (request: IncomingMessage, response: ServerResponse) => false | Promise<boolean>;

/**
 * The hot path of small reads, answered from node:http ahead of Fastify: a plain GET or HEAD of
 * an object held inline in the index (16 KiB or less), by a token verified before. Fastify's
 * request and reply objects, its hook chain and its router cost most of what such a request
 * costs (docs/BENCHMARKS.md); everything else is the same as on the route: the same admission
 * and per-user counts, the same token cache, the same lookup, headers, request ids and metrics.
 *
 * It answers only when it is sure of the answer; anything else it declines (returns false; the
 * request keeps its place in the admission counts) and the request goes to Fastify: a Range or a condition, a token not
 * verified yet, a missing or blob-backed object, a bad key, a full server, a server shutting
 * down, the access log or rate limits being on. Errors are therefore always Fastify's, with their one JSON shape.
 */
export function createFastRead(
  ctx: AppContext,
  deps: { admission: Admission; requestId: (request: IncomingMessage) => string },
): FastRead | undefined {
  // One log line per request and per-second budgets are the route's business: no fast path then.
  if (ctx.config.accessLog || ctx.rateLimits.enabled) return undefined;
  return (request, response) => {
    const method = request.method;
    // While shutting down, Fastify answers 503 and closes connections: leave every request to it.
    if ((method !== 'GET' && method !== 'HEAD') || ctx.lifecycle.draining) return false;
    const url = request.url ?? '';
    if (!url.startsWith(PREFIX) || url.includes('?')) return false;
    const headers = request.headers;
    for (const name of NOT_PLAIN) if (headers[name] !== undefined) return false;
    if (headers['content-length'] !== undefined && headers['content-length'] !== '0') return false;
    const typeEnd = url.indexOf('/', PREFIX.length);
    const routeEnd = typeEnd === -1 ? -1 : url.indexOf('/', typeEnd + 1);
    if (routeEnd === -1 || url.slice(typeEnd + 1, routeEnd) !== Routes.get) return false;
    const type = url.slice(PREFIX.length, typeEnd);
    if (!isStorageType(type)) return false;
    let key: string;
    try {
      key = keyFromRawUrl(url, KEY_AFTER_ROUTE_WORD);
    } catch {
      return false;
    }
    if (explainInvalidKey(key)) return false;
    const token = bearerTokenOf(headers.authorization);
    if (!token) return false;
    let tenant: string;
    try {
      const principal = ctx.tokens.verifiedBefore(token);
      // A scoped API key's reads are judged by the route, through the one authorization decision.
      if (!principal || principal.scope) return false;
      tenant = principal.tenant;
    } catch {
      return false; // expired: the route says so
    }

    // Counted from here on, as the route counts from its first hook: the lookup is work too, and
    // a flood of reads must not start more lookups than the server admits. A request handed on
    // to Fastify stays counted once (Admission and TenantSlots know the response).
    if (!deps.admission.hasRoom() || !ctx.tenantSlots.hasRoom(tenant)) return false;
    const started = process.hrtime.bigint();
    deps.admission.enter(response);
    ctx.tenantSlots.enter(tenant, response);
    return answer(method, request, response, { tenant, type, key }, started);
  };

  async function answer(method: 'GET' | 'HEAD', request: IncomingMessage, response: ServerResponse, ref: ObjectRef, started: bigint) {
    const { type } = ref;
    // Asks for the bytes only of an object small enough to be inline: a blob is never opened here.
    const found = await ctx.objects
      .read(ref, (info) => (info.size <= INLINE_MAX_BYTES ? { kind: 'all' } : { kind: 'none' }))
      .catch(() => undefined);
    if (!found || !Buffer.isBuffer(found.body)) {
      (found?.body as { destroy?: () => void } | undefined)?.destroy?.();
      return false;
    }
    // The client left during the lookup: there is no one to answer.
    if (response.destroyed) return true;
    const { info, body } = found;
    response.writeHead(200, { [Headers.requestId]: deps.requestId(request), ...objectHeaders(info, type, ctx.clock()) });
    if (method === 'GET') {
      response.end(body);
      ctx.metrics.bytesRead.inc(info.size);
    } else response.end();
    ctx.metrics.fastReads.inc();
    ctx.metrics.requests.inc({ method, route: OBJECT_READ_ROUTE, status: 200 });
    ctx.metrics.duration.observe({ method, route: OBJECT_READ_ROUTE }, Number(process.hrtime.bigint() - started) / 1e9);
    return true;
  }
}
