import type { FastifyRequest } from 'fastify';
import { decodeMetadataValue } from 'stowage-client/metadata';
import { Headers, METADATA_LIMITS } from 'stowage-client/protocol';
import { fail } from '../errors.js';
import { isMetadataName, metadataOverLimit } from '../storage/metadata-limits.js';
import type { ObjectAttributes } from '../storage/model.js';
import type { ObjectFacts } from '../storage/object-facts.js';
import { joinedHeader } from './header-value.js';

/** Visible ASCII and spaces: what a stored header value may hold (anything else comes RFC 8187-encoded). */
const VISIBLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The metadata, Cache-Control and Content-Disposition a write sends, checked before its body is
 * read; null when it sends none. Node reads header bytes as Latin-1, so raw UTF-8 in a header
 * shows up as characters above 0x7E and is refused: such text must come as an RFC 8187 ext-value.
 */
export function attributesOf(request: FastifyRequest): ObjectAttributes | null {
  const metadata: Record<string, string> = {};
  for (const [header, raw] of Object.entries(request.headers)) {
    if (!header.startsWith(Headers.metaPrefix)) continue;
    const name = header.slice(Headers.metaPrefix.length);
    if (!isMetadataName(name)) throw invalid(`metadata name "${name}" must be 1-${METADATA_LIMITS.nameBytes} of a-z 0-9 - _`);
    const text = joinedHeader(raw) ?? '';
    if (!VISIBLE_ASCII.test(text)) throw invalid(`${header} holds raw non-ASCII bytes: send UTF-8''<percent-encoded UTF-8> (RFC 8187)`);
    const value = decodeMetadataValue(text);
    if (value === undefined) throw invalid(`${header} is not a valid RFC 8187 UTF-8'' value`);
    metadata[name] = value;
  }
  const metadataBytes = metadataOverLimit(metadata);
  if (metadataBytes !== undefined)
    throw invalid(`metadata holds ${metadataBytes} bytes of names and values; the limit is ${METADATA_LIMITS.totalBytes}`);
  const cacheControl = storedHeader(request, 'cache-control');
  const contentDisposition = storedHeader(request, 'content-disposition');
  if (Object.keys(metadata).length === 0 && cacheControl === null && contentDisposition === null) return null;
  return { metadata, cacheControl, contentDisposition };
}

/** The response headers that give an object's attributes back as they were sent. */
export function attributeHeaders(facts: ObjectFacts): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of facts.metadata) headers[`${Headers.metaPrefix}${name}`] = value;
  if (facts.cacheControl !== null) headers['cache-control'] = facts.cacheControl;
  if (facts.contentDisposition !== null) headers['content-disposition'] = facts.contentDisposition;
  return headers;
}

/**
 * `Content-Disposition` for a signed URL made with a file name: `filename` for every client
 * (non-ASCII replaced, quotes and backslashes escaped) and `filename*` (RFC 6266, 8187) exactly.
 */
export function attachmentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '\\$&');
  const exact = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

function storedHeader(request: FastifyRequest, name: 'cache-control' | 'content-disposition'): string | null {
  const value = joinedHeader(request.headers[name]);
  if (value === undefined) return null;
  if (!VISIBLE_ASCII.test(value)) throw invalid(`${name} must be visible ASCII (use filename*= of RFC 6266 for other names)`);
  if (Buffer.byteLength(value) > METADATA_LIMITS.headerBytes) throw invalid(`${name} is longer than ${METADATA_LIMITS.headerBytes} bytes`);
  return value;
}

function invalid(detail: string) {
  return fail('InvalidMetadata', detail);
}
