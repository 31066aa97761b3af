import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_BASE_PATH, Headers, Routes } from 'stowage-client/protocol';
import { checkedRead } from '../storage/access.js';
import { INLINE_MAX_BYTES, type ObjectInfo, type ReadPlan } from '../storage/model.js';
import type { Admission } from './admission.js';
import { knownPrincipal, userPrincipal } from './authenticate.js';
import type { AppContext } from './context.js';
import { recordRequest } from './metrics.js';
import { objectReadTarget } from './request-key.js';
import { objectHeaders } from './send-object.js';

/** The route pattern the metrics give GET and HEAD of an object, whichever path served them. */
export const OBJECT_READ_ROUTE = `${API_BASE_PATH}/:type/${Routes.get}/*`;
/** Request headers that ask for more than the whole object as it stands (Fastify's route does that). */
const NOT_PLAIN = ['range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'transfer-encoding', 'expect'];

/** Why the fast path gave a request up, for the route to answer with (takeFastReadFailure). */
const failures = new WeakMap<IncomingMessage, unknown>();

/** The error the fast path met on this request, once: the route's first hook answers with it. */
export function takeFastReadFailure(request: IncomingMessage): unknown {
  const failure = failures.get(request);
  failures.delete(request);
  return failure;
}

/** False when declined at once; else whether it answered (false: declined after the lookup, nothing changed). */
export type FastRead = (request: IncomingMessage, response: ServerResponse) => false | Promise<boolean>;

/**
 * The hot path of small reads, answered from node:http ahead of Fastify: a plain GET or HEAD of
 * an object held inline in the index (16 KiB or less), by a token verified before. Fastify's
 * request and reply objects, its hook chain and its router cost most of what such a request
 * costs (docs/BENCHMARKS.md). It is built from the route's own steps, not copies of them: the
 * path parse (objectReadTarget), the token cache (knownPrincipal), admission and per-user counts,
 * the one authorization decision (Access.readable, with an object ACL's check), the lookup, the
 * headers (objectHeaders), request ids and metrics (recordRequest).
 *
 * It answers only when it is sure of the answer; anything else it declines (returns false; the
 * request keeps its place in the admission counts) and the request goes to Fastify: a Range or a condition, a token not
 * verified yet, a blob-backed object, a full server, a server shutting down, the access log or
 * rate limits being on. An error (a refusal, a missing object, an index that does not answer) is
 * handed to the route with the request, which answers with it: errors are always Fastify's, with
 * their one JSON shape.
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
    const headers = request.headers;
    const url = request.url ?? '';
    if (url.includes('?') || headers.authorization === undefined) return false;
    for (const name of NOT_PLAIN) if (headers[name] !== undefined) return false;
    if (headers['content-length'] !== undefined && headers['content-length'] !== '0') return false;
    let target: ReturnType<typeof objectReadTarget>;
    let principal: ReturnType<typeof knownPrincipal>;
    try {
      target = objectReadTarget(url);
      principal = target && knownPrincipal(ctx, headers.authorization);
    } catch {
      return false; // a bad key, a malformed header, an expired token: the route says so
    }
    if (!target || !principal) return false;

    // Counted from here on, as the route counts from its first hook: the lookup is work too, and
    // a flood of reads must not start more lookups than the server admits. A request handed on
    // to Fastify stays counted once (Admission and TenantSlots know the response).
    if (!deps.admission.hasRoom() || !ctx.tenantSlots.hasRoom(principal.tenant)) return false;
    const started = process.hrtime.bigint();
    deps.admission.enter(response);
    ctx.tenantSlots.enter(principal.tenant, response);
    return answer(method, request, response, userPrincipal(principal), target, started).catch((error: unknown) => {
      // The route would fail the same way (the same steps): it answers with this error at once
      // instead of asking the index again (during an outage, that would wait out its timeout twice).
      failures.set(request, error);
      return false;
    });
  };

  async function answer(
    method: 'GET' | 'HEAD',
    request: IncomingMessage,
    response: ServerResponse,
    principal: ReturnType<typeof userPrincipal>,
    { type, key }: { type: string; key: string },
    started: bigint,
  ): Promise<boolean> {
    const { ref, check } = await ctx.access.readable(principal, type, key);
    // Asks for the bytes only of an object small enough to be inline: a blob is never opened here.
    const plan = (info: ObjectInfo): ReadPlan => {
      check?.(info);
      return info.size <= INLINE_MAX_BYTES ? { kind: 'all' } : { kind: 'none' };
    };
    // As the route reads: a missing key that only an object ACL could have allowed is a refusal,
    // never a 404 that would tell whether the key exists.
    const found = await checkedRead(check, () => ctx.objects.read(ref, plan));
    if (!Buffer.isBuffer(found.body)) {
      (found.body as { destroy?: () => void } | undefined)?.destroy?.();
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
    recordRequest(ctx.metrics, method, OBJECT_READ_ROUTE, 200, Number(process.hrtime.bigint() - started) / 1e9);
    return true;
  }
}
