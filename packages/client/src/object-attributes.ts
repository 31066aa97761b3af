import { BadRequestError } from './errors.js';
import type { HttpResponse } from './http-transport.js';
import { decodeMetadataValue, encodeMetadataValue } from './metadata-codec.js';
import { Headers, METADATA_LIMITS } from './protocol.js';

type ResponseHeaders = HttpResponse['headers'];

/** What a value carries besides its bytes, as a write sends it. */
export interface ObjectAttributes {
  /** User metadata: names of `a-z 0-9 - _` (at most 64), values any text. */
  metadata?: Record<string, string> | undefined;
  cacheControl?: string | undefined;
  contentDisposition?: string | undefined;
}

/** What `info` reports about a stored value (one HEAD request). */
export interface ObjectInfo {
  size: number;
  etag: string;
  sha256: string;
  contentType: string;
  lastModified: Date;
  /** When the value expires; undefined when it never does. */
  expiresAt: Date | undefined;
  /** User metadata stored with the value, decoded (`{}` when none). */
  metadata: Record<string, string>;
  /**
   * The `Cache-Control` the value is served with: the stored one, else the server's default
   * (`private, no-cache`). A detailed listing tells the two apart (`cacheControl: null`).
   */
  cacheControl: string | undefined;
  /** The stored `Content-Disposition`; undefined when none was stored. */
  contentDisposition: string | undefined;
}

const NAME = new RegExp(`^[a-z0-9_-]{1,${METADATA_LIMITS.nameBytes}}$`);
const VISIBLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The request headers for a write's attributes. Names and header values are checked before any
 * request: an illegal header name would otherwise fail inside the HTTP library with no word on
 * which metadata entry was wrong. Sizes are left to the server (400 InvalidMetadata).
 */
export function attributeHeaders(attributes: ObjectAttributes): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes.metadata ?? {})) {
    if (!NAME.test(name)) refuse(`metadata name "${name}" must be 1-${METADATA_LIMITS.nameBytes} of a-z 0-9 - _`);
    if (typeof value !== 'string') refuse(`metadata value of "${name}" must be a string`);
    try {
      headers[`${Headers.metaPrefix}${name}`] = encodeMetadataValue(value);
    } catch (error) {
      refuse(`metadata value of "${name}": ${(error as Error).message}`);
    }
  }
  for (const [header, value] of [
    ['cache-control', attributes.cacheControl],
    ['content-disposition', attributes.contentDisposition],
  ] as const) {
    if (value === undefined) continue;
    // RFC 6266 filename*= carries any other file name in visible ASCII.
    if (!VISIBLE_ASCII.test(value)) refuse(`${header} must be visible ASCII (use filename*=UTF-8''… for other file names)`);
    headers[header] = value;
  }
  return headers;
}

/** Reads what a HEAD or GET response says about the value. */
export function objectInfoFromHeaders(headers: ResponseHeaders): ObjectInfo {
  const get = (name: string) => {
    const value = headers[name];
    return typeof value === 'string' ? value : '';
  };
  const expires = get(Headers.expiresAt);
  return {
    size: Number(get('content-length')),
    etag: get('etag'),
    sha256: get(Headers.sha256),
    contentType: get('content-type'),
    lastModified: new Date(get('last-modified')),
    expiresAt: expires ? new Date(expires) : undefined,
    metadata: metadataFromHeaders(headers),
    cacheControl: get('cache-control') || undefined,
    contentDisposition: get('content-disposition') || undefined,
  };
}

/** The `x-stowage-meta-*` headers, decoded; a value that does not decode is kept as sent. */
export function metadataFromHeaders(headers: ResponseHeaders): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(Headers.metaPrefix) || typeof value !== 'string') continue;
    metadata[name.slice(Headers.metaPrefix.length)] = decodeMetadataValue(value) ?? value;
  }
  return metadata;
}

function refuse(message: string): never {
  throw new BadRequestError(`Invalid metadata: ${message}`, { code: 'InvalidMetadata' });
}
