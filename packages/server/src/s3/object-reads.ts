// GetObject and HeadObject: ranges, parts, conditions, response-* overrides, and the headers
// an object is answered with.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../http/context.js';
import { INERT_CONTENT_HEADERS } from '../http/inert-content.js';
import { checkedRead, type ReadAccess } from '../storage/access.js';
import { parseRangeHeader, resolveRange } from '../storage/byte-ranges.js';
import { contentOf, type ObjectInfo, type ReadPlan } from '../storage/model.js';
import { objectFacts } from '../storage/object-facts.js';
import type { ObjectRef } from '../storage/object-ref.js';
import { checksumHeaders } from './checksum-answers.js';
import { s3Errors } from './errors.js';
import { single } from './header-value.js';
import { conditionVerdict, META } from './object-requests.js';

/** `response-*` query parameters of GetObject and the headers they set. */
const OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-disposition': 'content-disposition',
  'response-cache-control': 'cache-control',
  'response-content-encoding': 'content-encoding',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
};

/** GetObject and HeadObject: Range, the four conditional headers, response-* overrides. */
export async function getObject(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  ref: ObjectRef,
  query: URLSearchParams,
  check?: ReadAccess['check'],
) {
  const head = request.method === 'HEAD';
  const partNumber = partNumberOf(query);
  if (partNumber !== undefined && request.headers.range !== undefined)
    throw s3Errors.invalidRequest('Cannot specify both Range header and partNumber query parameter');
  const range = head ? undefined : parseS3Range(request.headers.range);
  let part: { start: number; end: number; count: number } | undefined;
  let verdict: 304 | 412 | undefined;
  const versionId = query.get('versionId') ?? undefined;
  const read = (plan: (info: ObjectInfo) => ReadPlan) =>
    versionId === undefined ? ctx.objects.read(ref, plan) : ctx.objects.readVersion(ref, versionId, plan);
  const found = await checkedRead(check, () =>
    read((info): ReadPlan => {
      check?.(info);
      part = partNumber === undefined ? undefined : partOf(info, partNumber);
      verdict = conditionVerdict((name) => single(request.headers[name]), info);
      if (verdict === 412) throw s3Errors.preconditionFailed();
      if (verdict === 304 || head) return { kind: 'none' };
      if (part) return { kind: 'range', start: part.start, end: part.end };
      if (!range) return { kind: 'all' };
      try {
        return resolveRange(range, info.size);
      } catch {
        throw s3Errors.invalidRange(info.size);
      }
    }),
  );
  const { info, plan, body } = found;
  reply.headers(objectHeaders(info));
  // The version read: the one asked for, or the current value's.
  const shownVersion = versionId ?? info.versionId;
  if (shownVersion !== undefined) reply.header('x-amz-version-id', shownVersion);
  // S3 gives the stored checksum when asked, for a read of the whole object: it is not a range's.
  const wholeObject = part === undefined && plan.kind !== 'range';
  // A presigned GET carries it in its query.
  const mode = single(request.headers['x-amz-checksum-mode']) ?? query.get('x-amz-checksum-mode') ?? undefined;
  if (wholeObject && mode?.toUpperCase() === 'ENABLED') reply.headers(checksumHeaders(contentOf(info.attributes).s3Checksum));
  for (const [param, header] of Object.entries(OVERRIDES)) {
    const value = query.get(param);
    if (value !== null) reply.header(header, value);
  }
  // Whatever type a presigned URL's override names (`response-content-type=text/html`), the answer stays inert.
  reply.headers(INERT_CONTENT_HEADERS);
  if (verdict === 304) return reply.code(304).removeHeader('content-length').send();
  if (part) {
    reply.header('x-amz-mp-parts-count', part.count).header('content-range', `bytes ${part.start}-${part.end}/${info.size}`);
    reply.header('content-length', part.end - part.start + 1);
    if (head) return reply.code(206).send();
  }
  if (head) return reply.code(200).send();
  if (plan.kind === 'range') {
    reply.header('content-range', `bytes ${plan.start}-${plan.end}/${info.size}`).header('content-length', plan.end - plan.start + 1);
    ctx.metrics.bytesRead.inc(plan.end - plan.start + 1);
    return reply.code(206).send(body);
  }
  ctx.metrics.bytesRead.inc(info.size);
  return reply.code(200).send(body);
}

/** The response headers of an object, as S3 names them. */
export function objectHeaders(info: ObjectInfo): Record<string, string | number> {
  // S3 names no time-to-live, only the expiry's date: `now` does not matter.
  const facts = objectFacts(info, 'md5', info.lastModified);
  const headers: Record<string, string | number> = {
    'content-type': facts.contentType,
    'content-length': facts.size,
    etag: facts.etag,
    'last-modified': facts.lastModified,
    'accept-ranges': 'bytes',
  };
  if (info.attributes) {
    for (const [name, value] of facts.metadata) headers[`${META}${name}`] = value;
    if (facts.cacheControl) headers['cache-control'] = facts.cacheControl;
    if (facts.contentDisposition) headers['content-disposition'] = facts.contentDisposition;
    Object.assign(headers, facts.storedHeaders);
  }
  if (facts.expiry) headers['x-amz-expiration'] = `expiry-date="${facts.expiry.at}"`;
  return headers;
}

/** The `partNumber` query parameter: 1 to 10,000, or undefined when absent. */
function partNumberOf(query: URLSearchParams): number | undefined {
  const raw = query.get('partNumber');
  if (raw === null) return undefined;
  const number = Number(raw);
  if (!/^\d+$/.test(raw) || number < 1 || number > 10_000)
    throw s3Errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive');
  return number;
}

/**
 * The bytes of part `number` of a multipart object. The boundaries are known when every part but
 * the last had the same size (as every S3 client cuts them); otherwise NotImplemented, never the
 * whole object. An object written whole is its own part 1: undefined, the whole object.
 */
function partOf(info: ObjectInfo, number: number): { start: number; end: number; count: number } | undefined {
  const count = contentOf(info.attributes).parts;
  if (!count) {
    if (number !== 1) throw s3Errors.invalidPartNumber();
    return undefined;
  }
  if (number > count) throw s3Errors.invalidPartNumber();
  const size = contentOf(info.attributes).partSize;
  if (!size) throw s3Errors.notImplemented('GetObject and HeadObject of one part of an object whose parts differ in size');
  return { start: (number - 1) * size, end: number === count ? info.size - 1 : number * size - 1, count };
}

function parseS3Range(header: string | undefined) {
  try {
    return parseRangeHeader(header);
  } catch {
    // S3 ignores a Range it cannot parse and sends the whole object.
    return undefined;
  }
}
