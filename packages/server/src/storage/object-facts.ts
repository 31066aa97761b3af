import { encodeMetadataValue } from 'stowage-client/metadata';
import type { ObjectInfo } from '../backends/backend.js';
import { isContentSha256 } from '../backends/composite.js';
import { chosenOf } from './object-attributes.js';
import { md5Etag } from './object-etags.js';

/**
 * Which ETag a front gives: storage API v1 the content's sha256, the S3 API the MD5-style one
 * its clients compare with their own MD5s (object-etags.ts).
 */
export type EtagKind = 'sha256' | 'md5';

/**
 * What a GET or HEAD of an object says about it, whichever front answers: each front names
 * these facts with its own headers (http/send-object.ts, s3/object-reads.ts).
 */
export interface ObjectFacts {
  readonly contentType: string;
  readonly size: number;
  /** Quoted. */
  readonly etag: string;
  /**
   * The sha256 of the bytes, when known: a value completed from parts (a composite) is known by
   * the sha256 of its parts' instead (its ETag), which no client can check the bytes against.
   */
  readonly contentSha256: string | undefined;
  /** HTTP date. */
  readonly lastModified: string;
  /** User metadata: names, and values as a header carries them (RFC 8187 when not plain ASCII). */
  readonly metadata: ReadonlyArray<readonly [name: string, headerValue: string]>;
  readonly cacheControl: string | null;
  readonly contentDisposition: string | null;
  /** Headers an S3 client stored with the object (Content-Encoding, Content-Language, Expires). */
  readonly storedHeaders: Readonly<Record<string, string>>;
  /** When the object expires, as an HTTP date and in whole seconds from `now`; undefined when it never does. */
  readonly expiry: { readonly at: string; readonly ttlSeconds: number } | undefined;
}

/** The facts of an object as of `now`, with the ETag the front gives. */
export function objectFacts(info: ObjectInfo, etag: EtagKind, now: number): ObjectFacts {
  const attributes = info.attributes;
  return {
    contentType: info.contentType,
    size: info.size,
    etag: etag === 'md5' ? md5Etag(info) : info.etag,
    contentSha256: isContentSha256(info.sha256) ? info.sha256 : undefined,
    lastModified: new Date(info.lastModified).toUTCString(),
    metadata: attributes ? Object.entries(attributes.metadata).map(([name, value]) => [name, encodeMetadataValue(value)] as const) : [],
    cacheControl: attributes?.cacheControl ?? null,
    contentDisposition: attributes?.contentDisposition ?? null,
    storedHeaders: chosenOf(attributes).s3Headers ?? {},
    expiry:
      info.expiresAt === undefined
        ? undefined
        : { at: new Date(info.expiresAt).toUTCString(), ttlSeconds: Math.max(0, Math.floor((info.expiresAt - now) / 1000)) },
  };
}
