import type { FastifyReply, FastifyRequest } from 'fastify';
import { Headers } from 'stowage-client/protocol';
import { fail } from '../errors.js';
import { checkedRead, type ReadAccess } from '../storage/access.js';
import { parseRangeHeader, resolveRange } from '../storage/byte-ranges.js';
import { parseContentType } from '../storage/media-type.js';
import type { ObjectInfo, ReadPlan } from '../storage/model.js';
import { objectFacts } from '../storage/object-facts.js';
import type { ObjectRef } from '../storage/object-ref.js';
import { DEFAULT_CONTENT_TYPE } from '../storage/object-service.js';
import { evaluateRead, type ReadPreconditions, type ReadVerdict, readPreconditionsOf } from '../storage/preconditions.js';
import type { AppContext } from './context.js';
import { joinedHeader } from './header-value.js';
import { INERT_CONTENT_HEADERS } from './inert-content.js';
import { attributeHeaders } from './object-attributes.js';
import { handoffFor, sendHandoff } from './read-offload.js';

/**
 * The headers of a GET or HEAD of an object, shared by the route, signed URLs and the fast read
 * path (fast-read.ts); `disposition` replaces the stored Content-Disposition (a signed URL's file name).
 */
export function objectHeaders(info: ObjectInfo, type: string, now: number, disposition?: string): Record<string, string | number> {
  const facts = objectFacts(info, 'sha256', now);
  const headers: Record<string, string | number> = {
    'content-type': servableContentType(facts.contentType),
    'content-length': facts.size,
    etag: facts.etag,
    'last-modified': facts.lastModified,
    'accept-ranges': 'bytes',
    'cache-control': 'private, no-cache',
    [Headers.storageType]: type,
  };
  if (facts.contentSha256) headers[Headers.sha256] = facts.contentSha256;
  if (facts.expiry) {
    headers[Headers.expiresAt] = facts.expiry.at;
    headers[Headers.ttl] = facts.expiry.ttlSeconds;
  }
  if (info.attributes) Object.assign(headers, attributeHeaders(facts));
  if (disposition !== undefined) headers['content-disposition'] = disposition;
  return Object.assign(headers, INERT_CONTENT_HEADERS);
}

function setObjectHeaders(reply: FastifyReply, info: ObjectInfo, type: string, now: number, disposition?: string): FastifyReply {
  return reply.headers(objectHeaders(info, type, now, disposition));
}

/** How a read is answered besides the object: a signed URL may name the file it downloads as. */
export interface ServeOptions {
  readonly disposition?: string | undefined;
  /** The check of the object's own ACL, when the bucket alone did not allow the read (Access.readable). */
  readonly check?: ReadAccess['check'];
  /** When what allowed the read ends (a signed URL's expiry, ms): a handed-off read may not outlive it. */
  readonly notAfter?: number | undefined;
}

/** A type stored before types were checked could break the header: it is served as bytes instead. */
function servableContentType(stored: string): string {
  try {
    return parseContentType(stored) ?? DEFAULT_CONTENT_TYPE;
  } catch {
    return DEFAULT_CONTENT_TYPE;
  }
}

function preconditionsOf(request: FastifyRequest): ReadPreconditions | undefined {
  return readPreconditionsOf((name) => joinedHeader(request.headers[name]));
}

/** The verdict of a read's conditions on `info`; 412 PreconditionFailed when they fail. */
function verdictOn(preconditions: ReadPreconditions | undefined, info: ObjectInfo): Exclude<ReadVerdict, 'failed'> {
  const verdict = evaluateRead(preconditions, { etags: [info.etag], lastModified: info.lastModified });
  // A resuming client sends If-Match so that a replaced object is never stitched to the old one.
  if (verdict === 'failed') throw fail('PreconditionFailed', 'The object changed: If-Match or If-Unmodified-Since does not hold');
  return verdict;
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
  const preconditions = preconditionsOf(request);
  let headers: Record<string, string | number> = {};
  const found = await checkedRead(options.check, () =>
    ctx.objects.read(ref, (info): ReadPlan => {
      options.check?.(info);
      headers = objectHeaders(info, ref.type, ctx.clock(), options.disposition);
      if (verdictOn(preconditions, info) === 'not-modified') return { kind: 'none' };
      const plan = range ? resolveRange(range, info.size) : { kind: 'all' as const };
      const handoff = handoffFor(ctx.config.readOffload, request, { info, plan, headers, now: ctx.clock(), notAfter: options.notAfter });
      return { ...plan, handoff };
    }),
  );
  const { info, plan, body, location } = found;
  reply.headers(headers);
  if (plan.kind === 'none') return reply.code(304).removeHeader('content-length').send();
  const served = plan.kind === 'range' ? plan.end - plan.start + 1 : info.size;
  ctx.metrics.bytesRead.inc(served);
  if (location) return sendHandoff(ctx.config.readOffload, reply, location, served, ctx.metrics);
  if (plan.kind === 'range') {
    reply.header('content-range', `bytes ${plan.start}-${plan.end}/${info.size}`);
    reply.header('content-length', served);
    return reply.code(206).send(body);
  }
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
  const info = await checkedRead(options.check, () => ctx.objects.head(ref));
  options.check?.(info);
  const verdict = verdictOn(preconditionsOf(request), info);
  setObjectHeaders(reply, info, ref.type, ctx.clock(), options.disposition);
  return reply.code(verdict === 'not-modified' ? 304 : 200).send();
}
