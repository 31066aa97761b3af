import { isPlainText, MAX_USER_ID_BYTES } from '../auth/user-id.js';
import { fail } from '../errors.js';
import { parseContentType } from './media-type.js';

export type Query = Record<string, string | string[] | undefined>;

/** The query fields of a signed or upload URL, each in its exact format. */
export interface UrlFields {
  readonly tenant: string;
  /** Seconds since the epoch. */
  readonly expires: number;
  readonly signature: string;
  readonly uploadId: string;
  readonly contentType: string | undefined;
  readonly objectTtlSeconds: number | undefined;
  /** A download URL's file name (Content-Disposition), when it was made with one. */
  readonly filename: string | undefined;
}

const SECONDS = /^(0|[1-9][0-9]{0,11})$/;
const UPLOAD_ID = /^[0-9a-f]{32}$/;

/**
 * Parses the signed fields of a URL's query. Anything not in its exact canonical format is
 * refused before the signature is computed: integers are plain decimal digits (so "1e3", "12 "
 * and "NaN" never pass), ids are 32 hex digits, the content type is a media type, and a field
 * appears once. Parameters the URL does not sign are ignored, never read.
 */
export function parseUrlFields(query: Query, options: { upload: true }): UrlFields & { uploadId: string };
export function parseUrlFields(query: Query, options: { upload: false }): Omit<UrlFields, 'uploadId' | 'contentType' | 'objectTtlSeconds'>;
export function parseUrlFields(query: Query, options: { upload: boolean }): Partial<UrlFields> {
  const tenant = required(query, 'tenant');
  if (!isPlainText(tenant, MAX_USER_ID_BYTES)) throw invalid('The URL names no valid tenant');
  const fields = {
    tenant,
    expires: seconds(required(query, 'expires'), 'expires'),
    signature: required(query, 'signature'),
  };
  if (!options.upload) {
    if (query.upload_id !== undefined || query.content_type !== undefined || query.object_ttl !== undefined)
      throw invalid('A signed download URL takes no upload parameters');
    return { ...fields, filename: optional(query, 'filename') };
  }
  if (query.filename !== undefined) throw invalid('An upload URL takes no filename');
  const uploadId = required(query, 'upload_id');
  if (!UPLOAD_ID.test(uploadId)) throw invalid('Malformed upload_id');
  const objectTtl = optional(query, 'object_ttl');
  return {
    ...fields,
    uploadId,
    contentType: parseContentType(optional(query, 'content_type'), 'content_type'),
    objectTtlSeconds: objectTtl === undefined ? undefined : seconds(objectTtl, 'object_ttl'),
  };
}

function seconds(value: string, name: string): number {
  if (!SECONDS.test(value)) throw invalid(`"${name}" must be a whole number of seconds`);
  return Number(value);
}

function optional(query: Query, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw invalid(`The URL's "${name}" parameter is malformed or repeated`);
  return value;
}

function required(query: Query, name: string): string {
  const value = optional(query, name);
  if (value === undefined) throw invalid(`The signed URL lacks its "${name}" parameter`);
  return value;
}

function invalid(detail: string) {
  return fail('InvalidSignature', detail);
}
