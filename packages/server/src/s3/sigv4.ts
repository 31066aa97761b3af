import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';
import { s3Errors } from './errors.js';
import { single } from './header-value.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** Header-signed requests may be this far from the server's clock (S3's limit). */
export const MAX_SKEW_MS = 15 * 60_000;
/** The longest a presigned URL may live (S3's limit: 7 days). */
const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;

/** What a SigV4-signed request claims: who signed it, when, over which headers and payload. */
export interface SignedClaims {
  readonly accessKeyId: string;
  /** yyyymmdd of the credential scope. */
  readonly date: string;
  readonly region: string;
  readonly service: string;
  /** yyyymmddThhmmssZ. */
  readonly amzDate: string;
  readonly signedHeaders: string[];
  readonly signature: string;
  /** x-amz-content-sha256 (header auth), or UNSIGNED-PAYLOAD (presigned). */
  readonly payloadHash: string;
  readonly presigned: boolean;
}

/** The parts of the request as received that a signature covers. */
export interface RequestToVerify {
  readonly method: string;
  /** The path as sent, still percent-encoded, without the query. */
  readonly rawPath: string;
  /** The query string as sent, without `?`. */
  readonly rawQuery: string;
  readonly headers: IncomingHttpHeaders;
}

/** The claims of a signed request; undefined when it carries no signature at all (anonymous). */
export function parseClaims(request: RequestToVerify): SignedClaims | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header !== '') return parseHeaderAuth(header, request.headers);
  const query = new URLSearchParams(request.rawQuery);
  if (query.has('X-Amz-Signature') || query.has('X-Amz-Algorithm')) return parsePresigned(query);
  return undefined;
}

function parseHeaderAuth(header: string, headers: IncomingHttpHeaders): SignedClaims {
  if (!header.startsWith(`${ALGORITHM} `)) throw unsupportedMechanism();
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(',')) {
    const at = part.indexOf('=');
    if (at > 0) fields.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  const amzDate = single(headers['x-amz-date']) ?? '';
  if (!credential || !signedHeaders || !signature) throw s3Errors.invalidArgument('The Authorization header is malformed');
  if (!/^\d{8}T\d{6}Z$/.test(amzDate)) throw s3Errors.accessDenied('AWS authentication requires a valid x-amz-date header');
  const payloadHash = single(headers['x-amz-content-sha256']);
  if (!payloadHash) throw s3Errors.invalidRequest('Missing required header for this request: x-amz-content-sha256');
  return { ...parseCredential(credential), amzDate, signedHeaders: signedHeaders.split(';'), signature, payloadHash, presigned: false };
}

/** An Authorization scheme that is neither SigV4 nor SigV2 (sigv2.ts): S3's answer to a mechanism it does not take. */
function unsupportedMechanism() {
  return s3Errors.invalidRequest('The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
}

function parsePresigned(query: URLSearchParams): SignedClaims {
  if (query.get('X-Amz-Algorithm') !== ALGORITHM) throw s3Errors.invalidArgument('Only AWS4-HMAC-SHA256 presigned URLs are supported');
  const credential = query.get('X-Amz-Credential');
  const amzDate = query.get('X-Amz-Date') ?? '';
  const signedHeaders = query.get('X-Amz-SignedHeaders');
  const signature = query.get('X-Amz-Signature');
  if (!credential || !signedHeaders || !signature || !/^\d{8}T\d{6}Z$/.test(amzDate))
    throw s3Errors.accessDenied('The presigned URL lacks a query parameter it needs');
  return {
    ...parseCredential(credential),
    amzDate,
    signedHeaders: signedHeaders.split(';'),
    signature,
    payloadHash: UNSIGNED_PAYLOAD,
    presigned: true,
  };
}

/** `AKID/yyyymmdd/region/service/aws4_request`: a SigV4 credential and its scope. */
export function parseCredential(credential: string): Pick<SignedClaims, 'accessKeyId' | 'date' | 'region' | 'service'> {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1] ?? ''))
    throw s3Errors.invalidArgument('The credential scope is malformed');
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  return { accessKeyId, date, region, service };
}

/**
 * Refuses a credential scope made for anything but this endpoint: another service or region, or
 * a day other than X-Amz-Date's. The region is named in the answer, as S3 does, so SDKs retry there.
 */
export function assertScope(claims: Pick<SignedClaims, 'service' | 'region' | 'date' | 'amzDate' | 'presigned'>, region: string): void {
  if (claims.service !== 's3')
    throw s3Errors.badScope(claims.presigned, `incorrect service "${claims.service}". This endpoint belongs to "s3".`);
  if (claims.region !== region)
    throw s3Errors.badScope(claims.presigned, `the region '${claims.region}' is wrong; expecting '${region}'`, { Region: region });
  if (claims.amzDate.slice(0, 8) !== claims.date)
    throw s3Errors.badScope(claims.presigned, 'Invalid credential date. Date is not the same as X-Amz-Date.');
}

/**
 * Refuses a request whose signature leaves out `host` or an `x-amz-*` header it carries, as S3
 * does: those headers choose what the request does (x-amz-copy-source turns a PUT into a copy,
 * x-amz-meta-* is stored), so a holder of a presigned URL must not be able to add them.
 */
export function assertHeadersSigned(claims: SignedClaims, headers: IncomingHttpHeaders): void {
  const signed = new Set(claims.signedHeaders);
  if (!signed.has('host')) throw s3Errors.accessDenied('The signature must cover the host header (SignedHeaders lacks host)');
  const unsigned = Object.keys(headers).filter((name) => name.startsWith('x-amz-') && !signed.has(name));
  if (unsigned.length > 0) throw s3Errors.headersNotSigned(unsigned);
}

/** Refuses a request signed too far from now (header auth), or a presigned URL past its expiry. */
export function assertFresh(claims: SignedClaims, query: URLSearchParams, now: number): void {
  const signedAt = parseAmzDate(claims.amzDate);
  if (!claims.presigned) {
    if (Math.abs(now - signedAt) > MAX_SKEW_MS) throw s3Errors.skewed();
    return;
  }
  const expires = Number(query.get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGNED_SECONDS)
    throw s3Errors.accessDenied('X-Amz-Expires must be a number of seconds from 1 to 604800');
  if (signedAt - now > MAX_SKEW_MS) throw s3Errors.skewed();
  if (now > signedAt + expires * 1000) throw s3Errors.expired();
}

/**
 * Signing keys derived before, by secret and scope: a key serves every request of its day, and
 * deriving it is four HMACs, most of what checking a small request's signature costs.
 */
const signingKeys = new LRUCache<string, Buffer>({ max: 10_000 });

/** The SigV4 signing key of a secret for a scope. */
export function signingKey(secret: string, claims: Pick<SignedClaims, 'date' | 'region' | 'service'>): Buffer {
  // Unambiguous whatever the request's scope holds.
  const cacheKey = JSON.stringify([secret, claims.date, claims.region, claims.service]);
  const known = signingKeys.get(cacheKey);
  if (known) return known;
  const date = hmac(`AWS4${secret}`, claims.date);
  const region = hmac(date, claims.region);
  const service = hmac(region, claims.service);
  const key = hmac(service, 'aws4_request');
  signingKeys.set(cacheKey, key);
  return key;
}

export function scopeOf(claims: Pick<SignedClaims, 'date' | 'region' | 'service'>): string {
  return `${claims.date}/${claims.region}/${claims.service}/aws4_request`;
}

/**
 * Whether the signature is right for the request. The canonical URI is tried as S3 clients form
 * it (each segment percent-encoded once, by the strict SigV4 rules), then as sent: clients that
 * leave a reserved character unencoded in the path sign it as they send it.
 */
export function signatureMatches(request: RequestToVerify, claims: SignedClaims, key: Buffer): boolean {
  const candidates = new Set([canonicalPath(request.rawPath), request.rawPath]);
  for (const path of candidates) {
    const canonical = canonicalRequest(request, claims, path);
    const toSign = [ALGORITHM, claims.amzDate, scopeOf(claims), sha256Hex(canonical)].join('\n');
    if (equalHex(hmac(key, toSign).toString('hex'), claims.signature)) return true;
  }
  return false;
}

function canonicalRequest(request: RequestToVerify, claims: SignedClaims, path: string): string {
  const headers = claims.signedHeaders.map((name) => `${name}:${canonicalHeaderValue(request.headers[name])}\n`).join('');
  return [
    request.method,
    path,
    canonicalQuery(request.rawQuery, claims.presigned),
    headers,
    claims.signedHeaders.join(';'),
    claims.payloadHash,
  ].join('\n');
}

function canonicalHeaderValue(value: string | string[] | undefined): string {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}

function canonicalQuery(rawQuery: string, presigned: boolean): string {
  if (rawQuery === '') return '';
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const at = part.indexOf('=');
    const name = decodeQueryPart(at < 0 ? part : part.slice(0, at));
    const value = at < 0 ? '' : decodeQueryPart(part.slice(at + 1));
    if (presigned && name === 'X-Amz-Signature') continue;
    pairs.push([uriEncode(name, true), uriEncode(value, true)]);
  }
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

function canonicalPath(rawPath: string): string {
  return rawPath
    .split('/')
    .map((segment) => uriEncode(safeDecode(segment), true))
    .join('/');
}

/** SigV4's UriEncode: every byte but A-Z a-z 0-9 - . _ ~ as %XX (uppercase); `/` kept unless `encodeSlash`. */
export function uriEncode(text: string, encodeSlash: boolean): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(char) || (char === '/' && !encodeSlash)) out += char;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function decodeQueryPart(text: string): string {
  return safeDecode(text.replace(/\+/g, '%20'));
}

/** decodeURIComponent, or the text as it is when it is not valid percent-encoding. */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Whether a signature given is the one expected, in time that does not tell how much of it matched. */
export function equalSignature(expected: string, given: string): boolean {
  const [x, y] = [Buffer.from(expected, 'utf8'), Buffer.from(given, 'utf8')];
  return x.length === y.length && timingSafeEqual(x, y);
}

/** equalSignature for hex, in either case. */
export function equalHex(a: string, b: string): boolean {
  return equalSignature(a, b.toLowerCase());
}

/** Milliseconds of a yyyymmddThhmmssZ date (X-Amz-Date); NaN when it is not one. */
export function parseAmzDate(value: string): number {
  const [, y, mo, d, h, mi, s] = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value) ?? [];
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}
