import type { FastifyReply, FastifyRequest } from 'fastify';
import { Headers, type StorageType } from 'stowage-client/protocol';
import type { ObjectInfo, ReadPlan } from '../backends/backend.js';
import { fail } from '../errors.js';
import { parseRangeHeader, resolveRange } from '../storage/byte-ranges.js';
import { parseContentType } from '../storage/media-type.js';
import type { ObjectRef } from '../storage/object-ref.js';
import { DEFAULT_CONTENT_TYPE } from '../storage/object-service.js';
import { parseEtagList } from '../storage/preconditions.js';
import type { AppContext } from './context.js';
import { INERT_CONTENT_HEADERS } from './inert-content.js';
import { attributeHeaders } from './object-attributes.js';

/**
 * The headers of a GET or HEAD of an object, shared by the route, signed URLs and the fast read
 * path (fast-read.ts); `disposition` replaces the stored Content-Disposition (a signed URL's file name).
 */
export function objectHeaders(info: ObjectInfo, type: StorageType, now: number, disposition?: string): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    'content-type': servableContentType(info.contentType),
    'content-length': info.size,
    etag: info.etag,
    'last-modified': new Date(info.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
    'cache-control': 'private, no-cache',
    [Headers.sha256]: info.sha256,
    [Headers.storageType]: type,
  };
  if (info.expiresAt !== undefined) {
    headers[Headers.expiresAt] = new Date(info.expiresAt).toUTCString();
    headers[Headers.ttl] = Math.max(0, Math.floor((info.expiresAt - now) / 1000));
  }
  if (info.attributes) Object.assign(headers, attributeHeaders(info.attributes));
  if (disposition !== undefined) headers['content-disposition'] = disposition;
  return Object.assign(headers, INERT_CONTENT_HEADERS);
}

function setObjectHeaders(reply: FastifyReply, info: ObjectInfo, type: StorageType, now: number, disposition?: string): FastifyReply {
  return reply.headers(objectHeaders(info, type, now, disposition));
}

/** How a read is answered besides the object: a signed URL may name the file it downloads as. */
export interface ServeOptions {
  readonly disposition?: string | undefined;
}

/** A type stored before types were checked could break the header: it is served as bytes instead. */
function servableContentType(stored: string): string {
  try {
    return parseContentType(stored) ?? DEFAULT_CONTENT_TYPE;
  } catch {
    return DEFAULT_CONTENT_TYPE;
  }
}

/** RFC 9110 §13.1.2/§13.1.3: If-None-Match wins; If-Modified-Since is compared at second precision. */
function isNotModified(request: FastifyRequest, info: ObjectInfo): boolean {
  const noneMatch = parseEtagList(request.headers['if-none-match']);
  if (noneMatch) return noneMatch.includes('*') || noneMatch.includes(info.etag);
  const since = Date.parse(request.headers['if-modified-since'] ?? '');
  return !Number.isNaN(since) && Math.floor(info.lastModified / 1000) <= Math.floor(since / 1000);
}

/** GET of an object: 200, 206 for a Range, 304 when the client's copy is current, 416 past the end. */
export async function serveObject(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  ref: ObjectRef,
  options: ServeOptions = {},
) {
  const range = parseRangeHeader(request.headers.range);
  const ifMatch = parseEtagList(request.headers['if-match']);
  const found = await ctx.objects.read(ref, (info): ReadPlan => {
    // A resuming client sends If-Match so that a replaced object is never stitched to the old one.
    if (ifMatch && !ifMatch.includes('*') && !ifMatch.includes(info.etag))
      throw fail('PreconditionFailed', 'The object changed: If-Match does not match its ETag');
    if (isNotModified(request, info)) return { kind: 'none' };
    return range ? resolveRange(range, info.size) : { kind: 'all' };
  });
  const { info, plan, body } = found;
  setObjectHeaders(reply, info, ref.type, ctx.clock(), options.disposition);
  if (plan.kind === 'none') return reply.code(304).removeHeader('content-length').send();
  if (plan.kind === 'range') {
    reply.header('content-range', `bytes ${plan.start}-${plan.end}/${info.size}`);
    reply.header('content-length', plan.end - plan.start + 1);
    ctx.metrics.bytesRead.inc(plan.end - plan.start + 1);
    return reply.code(206).send(body);
  }
  ctx.metrics.bytesRead.inc(info.size);
  return reply.code(200).send(body);
}

/** HEAD of an object: the GET headers, 304 when the client's copy is current. */
export async function serveObjectHead(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  ref: ObjectRef,
  options: ServeOptions = {},
) {
  const info = await ctx.objects.head(ref);
  setObjectHeaders(reply, info, ref.type, ctx.clock(), options.disposition);
  return reply.code(isNotModified(request, info) ? 304 : 200).send();
}
