import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ReadOffloadConfig } from '../config.js';
import type { BlobLocation, Handoff, ObjectInfo, ReadPlan } from '../storage/model.js';
import type { Metrics } from './metrics.js';

/**
 * The request header by which nginx says it answers X-Accel-Redirect (`proxy_set_header
 * X-Sendfile-Type X-Accel-Redirect`, which replaces whatever a client sent): a request that
 * reached this server another way is served here, never answered with a path it cannot follow.
 */
export const SENDFILE_TYPE = 'x-sendfile-type';

/**
 * Conditions the one who sends the bytes would judge again against its own validators: nginx
 * (with `etag off`, If-Match would fail there), and the store a client is sent to, which gets the
 * client's headers again and has validators of its own (its ETag, the blob's time). Reads with
 * them stay here; a resumed download sends If-Match.
 */
const JUDGED_AGAIN: Record<'nginx' | 'redirect', readonly string[]> = {
  nginx: ['if-match', 'if-unmodified-since', 'if-range'],
  redirect: ['if-match', 'if-unmodified-since', 'if-range', 'if-none-match', 'if-modified-since'],
};

/** The headers of the object's answer a handoff needs; `objectHeaders` (send-object.ts) made them. */
export type AnswerHeaders = Record<string, string | number>;

/** What the read found and will answer, and until when what allowed it lasts. */
export interface HandoffCandidate {
  readonly info: ObjectInfo;
  readonly plan: Exclude<ReadPlan, { kind: 'none' }>;
  readonly headers: AnswerHeaders;
  readonly now: number;
  /** A signed URL's expiry (ms): a presigned URL of the store may not outlive it. */
  readonly notAfter: number | undefined;
}

/**
 * Whether this GET's bytes leave the server's hands (docs/deploy.md, "Read offload"), and how: the
 * handoff to ask the read for, or undefined to serve it here. Only a read the offload can answer
 * exactly as this server would is handed off: large enough, with no condition the sender would
 * judge again, and (for nginx) with every header nginx is set up to pass on.
 */
export function handoffFor(offload: ReadOffloadConfig, request: FastifyRequest, candidate: HandoffCandidate): Handoff | undefined {
  if (offload.kind === 'off') return undefined;
  const { info, plan, headers, now } = candidate;
  const length = plan.kind === 'range' ? plan.end - plan.start + 1 : info.size;
  if (length < offload.minBytes) return undefined;
  // A Range this server does not serve as one range (several ranges) is answered whole here.
  if (request.headers.range !== undefined && plan.kind !== 'range') return undefined;
  if (JUDGED_AGAIN[offload.kind].some((name) => request.headers[name] !== undefined)) return undefined;
  if (offload.kind === 'nginx') {
    if (request.headers[SENDFILE_TYPE]?.toString().toLowerCase() !== 'x-accel-redirect') return undefined;
    // nginx passes on a fixed list of headers; metadata names are the user's own.
    if (info.attributes && Object.keys(info.attributes.metadata).length > 0) return undefined;
  }
  // A presigned URL lasts no longer than the read's own right to it: a signed URL's expiry, an
  // expiring object's (tmp), the configured lifetime.
  const lastsMs = Math.min(
    offload.kind === 'redirect' ? offload.ttlMs : Number.POSITIVE_INFINITY,
    (candidate.notAfter ?? Number.POSITIVE_INFINITY) - now,
    (info.expiresAt ?? Number.POSITIVE_INFINITY) - now,
  );
  if (offload.kind === 'redirect' && lastsMs < 1000) return undefined;
  return {
    expiresInSeconds: offload.kind === 'redirect' ? Math.floor(lastsMs / 1000) : 0,
    headers: {
      contentType: String(headers['content-type']),
      contentDisposition: headers['content-disposition']?.toString(),
      cacheControl: String(headers['cache-control']),
    },
  };
}

/**
 * Answers a handed-off read: nginx gets the blob's path under its internal location and sends the
 * file (with the Range, which this server already checked); a client gets a 307 to the store's
 * presigned URL, with the object's headers, so that one which follows it itself keeps them. The
 * bytes count as offloaded (`served`, already counted as read by the caller).
 */
export function sendHandoff(
  offload: ReadOffloadConfig,
  reply: FastifyReply,
  location: BlobLocation,
  served: number,
  metrics: Metrics,
): FastifyReply {
  reply.removeHeader('content-length').removeHeader('content-range');
  if (location.kind === 'file' && offload.kind === 'nginx') {
    metrics.bytesOffloaded.inc({ mode: 'nginx' }, served);
    // nginx adds its own Accept-Ranges and computes the length and range of what it sends.
    return reply.removeHeader('accept-ranges').header('x-accel-redirect', `${offload.location}${location.path}`).code(200).send();
  }
  if (location.kind === 'url') {
    metrics.bytesOffloaded.inc({ mode: 'redirect' }, served);
    // The URL expires: no cache may keep the redirect.
    return reply.header('location', location.url).header('cache-control', 'no-store').code(307).send();
  }
  throw new Error(`a ${location.kind} location cannot be answered in ${offload.kind} offload mode`);
}
