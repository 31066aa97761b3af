import { createHmac } from 'node:crypto';
import { s3Errors } from './errors.js';
import { single } from './header-value.js';
import { equalSignature, MAX_SKEW_MS, parseAmzDate, type RequestToVerify, safeDecode } from './sigv4.js';

/** The furthest ahead a presigned URL's Expires may be: SigV4's limit of 7 days, and the skew. */
const MAX_PRESIGNED_MS = 7 * 24 * 3600_000 + MAX_SKEW_MS;
/**
 * The query parameters that are part of CanonicalizedResource: the sub-resources S3 lists, the
 * response-* overrides, and what botocore's HmacV1Auth adds to S3's list. Other parameters
 * (prefix, list-type, …) are not signed in SigV2.
 */
const SIGNED_SUBRESOURCES = new Set([
  'accelerate',
  'acl',
  'analytics',
  'cors',
  'defaultObjectAcl',
  'delete',
  'inventory',
  'lifecycle',
  'location',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'partNumber',
  'policy',
  'replication',
  'requestPayment',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'restore',
  'select',
  'select-type',
  'storageClass',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'website',
]);

/** The request as SigV2 reads it: SigV4's view and the headers as received, repeats included. */
export interface V2RequestToVerify extends RequestToVerify {
  /** Node's rawHeaders: name, value, name, value… */
  readonly rawHeaders: readonly string[];
  /**
   * The path from the bucket on (`/bucket/key`), still percent-encoded: what botocore signs in
   * SigV2 when its endpoint has a path of its own (`…/s3`). The same as rawPath on the S3 port.
   */
  readonly bucketPath: string;
}

/** What a SigV2-signed request claims: who signed it, and until when (presigned) or when (header). */
export interface V2Claims {
  readonly accessKeyId: string;
  /** Base64 HMAC-SHA1. */
  readonly signature: string;
  /** The presigned URL's Expires (seconds since the epoch); undefined for header auth. */
  readonly expires: string | undefined;
}

/** Whether the request is signed with Signature Version 2 (`Authorization: AWS …`, or `AWSAccessKeyId` in the query). */
export function isSigV2(request: RequestToVerify): boolean {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header !== '') return header.startsWith('AWS ');
  const query = new URLSearchParams(request.rawQuery);
  return query.has('AWSAccessKeyId') || query.has('Signature');
}

/** The claims of a SigV2 request; the caller has checked isSigV2. */
export function parseV2Claims(request: RequestToVerify): V2Claims {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header !== '') {
    const credentials = header.slice('AWS '.length).trim();
    const at = credentials.lastIndexOf(':');
    if (at <= 0 || at === credentials.length - 1)
      throw s3Errors.invalidArgument('The Authorization header is malformed: AWS AccessKeyId:Signature');
    return { accessKeyId: credentials.slice(0, at), signature: credentials.slice(at + 1), expires: undefined };
  }
  const query = new URLSearchParams(request.rawQuery);
  const accessKeyId = query.get('AWSAccessKeyId');
  // Base64 holds no space: one here is a `+` left unencoded in the URL.
  const signature = query.get('Signature')?.replace(/ /g, '+');
  const expires = query.get('Expires');
  if (!accessKeyId || !signature || !expires)
    throw s3Errors.accessDenied('Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  return { accessKeyId, signature, expires };
}

/**
 * Refuses a header-signed request whose Date (or x-amz-date, which takes precedence) is more
 * than 15 minutes from now, and a presigned URL past its Expires or set to expire more than
 * 7 days ahead.
 */
export function assertV2Fresh(claims: V2Claims, request: RequestToVerify, now: number): void {
  if (claims.expires !== undefined) {
    if (!/^\d{1,12}$/.test(claims.expires)) throw s3Errors.accessDenied('Expires must be a number of seconds since the epoch');
    const expiresAt = Number(claims.expires) * 1000;
    if (now > expiresAt) throw s3Errors.expired();
    if (expiresAt - now > MAX_PRESIGNED_MS) throw s3Errors.accessDenied('Expires must be at most 7 days (604800 seconds) from now');
    return;
  }
  const stated = single(request.headers['x-amz-date']) ?? single(request.headers.date);
  const signedAt = stated === undefined ? Number.NaN : parseV2Date(stated);
  if (Number.isNaN(signedAt)) throw s3Errors.accessDenied('AWS authentication requires a valid Date or x-amz-date header');
  if (Math.abs(now - signedAt) > MAX_SKEW_MS) throw s3Errors.skewed();
}

/**
 * Whether the signature is the HMAC-SHA1 of S3's StringToSign for the request, its resource being
 * the path as sent or as from the bucket on (see bucketPath). With x-amz-date
 * present, S3 signs an empty Date line; some clients (and MinIO) sign the Date header's value
 * there anyway, so both are tried. Every x-amz-* header the request carries is signed, by
 * construction: CanonicalizedAmzHeaders is built from all of them as received.
 */
export function v2SignatureMatches(request: V2RequestToVerify, claims: V2Claims, secret: string): boolean {
  const dates = new Set<string>();
  if (claims.expires !== undefined) dates.add(claims.expires);
  else {
    if (request.headers['x-amz-date'] !== undefined) dates.add('');
    dates.add(single(request.headers.date) ?? '');
  }
  // botocore signs a bucket's own path as `/bucket/`.
  const bucketOnly = /^\/[^/]+$/.test(request.bucketPath) ? [`${request.bucketPath}/`] : [];
  for (const path of new Set([request.rawPath, request.bucketPath, ...bucketOnly]))
    for (const date of dates) {
      if (equalSignature(signV2(secret, v2StringToSign(request, path, date)), claims.signature)) return true;
    }
  return false;
}

/** Base64 HMAC-SHA1 of `text` with `secret`: SigV2's signature, of a request or a POST policy. */
export function signV2(secret: string, text: string): string {
  return createHmac('sha1', secret).update(text, 'utf8').digest('base64');
}

/** StringToSign: verb, Content-MD5, Content-Type, Date (or Expires), CanonicalizedAmzHeaders, CanonicalizedResource. */
export function v2StringToSign(request: V2RequestToVerify, path: string, date: string): string {
  const header = (name: string) => (single(request.headers[name]) ?? '').trim();
  return (
    [request.method, header('content-md5'), header('content-type'), date, ''].join('\n') +
    amzHeaders(request.rawHeaders) +
    resource(path, request.rawQuery)
  );
}

/**
 * Every x-amz-* header as received: names lowercased and sorted, a repeated header's values
 * joined by commas, each value trimmed and its folding whitespace made one space.
 */
function amzHeaders(rawHeaders: readonly string[]): string {
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    if (!name.startsWith('x-amz-')) continue;
    const value = (rawHeaders[i + 1] ?? '').replace(/\s*\r?\n\s*/g, ' ').trim();
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return [...values.keys()]
    .sort()
    .map((name) => `${name}:${values.get(name)?.join(',')}\n`)
    .join('');
}

/** The path as the client signed it, then the signed sub-resources, sorted, with their decoded values. */
function resource(path: string, rawQuery: string): string {
  const parts: Array<[string, string | undefined]> = [];
  for (const part of rawQuery.split('&')) {
    const at = part.indexOf('=');
    const name = at < 0 ? part : part.slice(0, at);
    if (!SIGNED_SUBRESOURCES.has(name)) continue;
    parts.push([name, at < 0 ? undefined : safeDecode(part.slice(at + 1))]);
  }
  parts.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (parts.length === 0) return path;
  return `${path}?${parts.map(([name, value]) => (value === undefined ? name : `${name}=${value}`)).join('&')}`;
}

/** An RFC 1123 date (Date, and x-amz-date in SigV2), or SigV4's yyyymmddThhmmssZ. */
function parseV2Date(value: string): number {
  const basic = parseAmzDate(value);
  return Number.isNaN(basic) ? Date.parse(value) : basic;
}
