import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ReadOffloadConfig } from '../config.js';
import type { BlobLocation, Handoff, ObjectInfo, ReadPlan } from '../storage/model.js';

/**
 * The request header by which nginx says it answers X-Accel-Redirect (`proxy_set_header
 * X-Sendfile-Type X-Accel-Redirect`, which replaces whatever a client sent): a request that
 * reached this server another way is served here, never answered with a path it cannot follow.
 */
export const SENDFILE_TYPE = 'x-sendfile-type';

/**
 * Conditions nginx would judge again on the file it sends: with the validators ours and not its
 * own (`etag off`), If-Match would fail there. Reads with them stay here.
 */
const JUDGED_AGAIN_BY_NGINX = ['if-match', 'if-unmodified-since', 'if-range'] as const;

/** The headers of the object's answer a handoff needs; `objectHeaders` (send-object.ts) made them. */
export type AnswerHeaders = Record<string, string | number>;

/**
 * Whether this GET's bytes leave the server's hands (docs/deploy.md, "Read offload"), and how: the
 * handoff to ask the read for, or undefined to serve it here. Only a read the offload can answer
 * exactly as this server would is handed off: large enough, and (for nginx) with every header
 * nginx is set up to pass on and no condition it would judge again.
 */
export function handoffFor(
  offload: ReadOffloadConfig,
  request: FastifyRequest,
  info: ObjectInfo,
  plan: Exclude<ReadPlan, { kind: 'none' }>,
  headers: AnswerHeaders,
): Handoff | undefined {
  if (offload.kind === 'off') return undefined;
  const length = plan.kind === 'range' ? plan.end - plan.start + 1 : info.size;
  if (length < offload.minBytes) return undefined;
  // A Range this server does not serve as one range (several ranges) is answered whole here.
  if (request.headers.range !== undefined && plan.kind !== 'range') return undefined;
  if (offload.kind === 'nginx') {
    if (request.headers[SENDFILE_TYPE]?.toString().toLowerCase() !== 'x-accel-redirect') return undefined;
    if (JUDGED_AGAIN_BY_NGINX.some((name) => request.headers[name] !== undefined)) return undefined;
    // nginx passes on a fixed list of headers; metadata names are the user's own.
    if (info.attributes && Object.keys(info.attributes.metadata).length > 0) return undefined;
  }
  return {
    expiresInSeconds: offload.kind === 'redirect' ? Math.ceil(offload.ttlMs / 1000) : 0,
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
 * presigned URL, with the object's headers, so that one which follows it itself keeps them.
 */
export function sendHandoff(
  offload: ReadOffloadConfig,
  reply: FastifyReply,
  location: BlobLocation,
  served: number,
  metrics: { bytesRead: { inc(n: number): void }; bytesOffloaded: { inc(labels: { mode: string }, n: number): void } },
): FastifyReply {
  metrics.bytesRead.inc(served);
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
