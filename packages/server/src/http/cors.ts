import type { FastifyReply, FastifyRequest } from 'fastify';
import { Headers } from 'stowage-client/protocol';
import type { ServerConfig } from '../config.js';
import { CORS_METHODS, type CorsRequest, type CorsRule, findCorsRule, requestedHeaders } from '../storage/cors-rules.js';

/**
 * Response headers a page on another origin may read under the server-wide rule: what the
 * resumable upload protocol (Range), ranged and conditional reads (ETag, Content-Range) and the
 * S3 SDKs (x-amz-*) read, beyond the ones browsers always show. `*` exposes every other one
 * (user metadata) to browsers that take it; none is sent with credentials, where `*` would not.
 */
export const DEFAULT_EXPOSED_HEADERS: readonly string[] = [
  '*',
  'ETag',
  'Content-Range',
  'Accept-Ranges',
  'Range',
  'Content-Disposition',
  'Content-Encoding',
  'Retry-After',
  Headers.requestId,
  Headers.sha256,
  Headers.storageType,
  Headers.expiresAt,
  Headers.ttl,
  'x-amz-request-id',
  'x-amz-version-id',
  'x-amz-expiration',
  'x-amz-mp-parts-count',
  'x-amz-checksum-crc32',
  'x-amz-checksum-crc32c',
  'x-amz-checksum-sha1',
  'x-amz-checksum-sha256',
  'x-amz-bucket-region',
  'x-amz-error-code',
];

/** How long a browser may keep a preflight's answer under the server-wide rule, in seconds. */
const DEFAULT_MAX_AGE_SECONDS = 600;

/** STOWAGE_CORS_ORIGINS as one rule: those origins, every method and request header; none when unset. */
export function serverCorsRules(config: ServerConfig): readonly CorsRule[] {
  if (config.corsOrigins.length === 0) return [];
  return [
    {
      allowedOrigins: config.corsOrigins,
      allowedMethods: CORS_METHODS,
      allowedHeaders: ['*'],
      exposeHeaders: DEFAULT_EXPOSED_HEADERS,
      maxAgeSeconds: DEFAULT_MAX_AGE_SECONDS,
    },
  ];
}

/** A preflight request's Origin and Access-Control-Request-Method, and the headers it asks for. */
export interface Preflight {
  readonly origin: string | undefined;
  readonly method: string | undefined;
  readonly headers: string[];
}

export function preflightOf(request: FastifyRequest): Preflight {
  return {
    origin: single(request.headers.origin),
    method: single(request.headers['access-control-request-method']),
    headers: requestedHeaders(single(request.headers['access-control-request-headers'])),
  };
}

/**
 * Answers a preflight that `rule` allows: the origin (or `*` when the rule allows any), the
 * rule's methods, the headers asked for, what may be read, and how long to keep it. Never
 * Access-Control-Allow-Credentials: no route that takes cross-origin requests reads cookies.
 */
export function sendPreflight(reply: FastifyReply, rule: CorsRule, preflight: CorsRequest) {
  allowOrigin(reply, rule, preflight.origin);
  reply.header('access-control-allow-methods', rule.allowedMethods.join(', '));
  if (preflight.headers.length > 0) reply.header('access-control-allow-headers', preflight.headers.join(', '));
  if (rule.maxAgeSeconds !== undefined) reply.header('access-control-max-age', String(rule.maxAgeSeconds));
  return reply.code(200).send();
}

/**
 * On an actual (not preflight) request: the CORS headers of the first rule that allows its
 * origin and method, else none, and the browser keeps the answer from the page.
 */
export function applyCorsRules(request: FastifyRequest, reply: FastifyReply, rules: readonly CorsRule[]): void {
  const origin = single(request.headers.origin);
  if (origin === undefined) return;
  const rule = findCorsRule(rules, { origin, method: request.method, headers: [] });
  if (rule) allowOrigin(reply, rule, origin);
}

/** Answers differ by Origin: caches must keep them apart (also those to requests without one). */
export function varyByOrigin(reply: FastifyReply, preflight = false): void {
  const names = preflight ? 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method' : 'Origin';
  const vary = reply.getHeader('vary');
  reply.header('vary', vary ? `${String(vary)}, ${names}` : names);
}

function allowOrigin(reply: FastifyReply, rule: CorsRule, origin: string): void {
  reply.header('access-control-allow-origin', rule.allowedOrigins.includes('*') ? '*' : origin);
  if (rule.exposeHeaders.length > 0) reply.header('access-control-expose-headers', rule.exposeHeaders.join(', '));
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
