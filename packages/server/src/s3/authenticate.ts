import type { FastifyReply, FastifyRequest } from 'fastify';
import { findApiKey, scopeOf } from '../auth/api-keys.js';
import type { AppContext } from '../http/context.js';
import { admitAnonymous } from '../http/principal.js';
import type { KeyScope } from '../storage/bucket-model.js';
import { STREAMING_SIGNED, STREAMING_SIGNED_TRAILER } from './aws-chunked.js';
import { s3Errors } from './errors.js';
import { single } from './header-value.js';
import { isPostObject } from './post-object-request.js';
import { S3_BASE_PATH, signedUrlOf } from './root-listener.js';
import { assertV2Fresh, isSigV2, parseV2Claims, type V2RequestToVerify, v2SignatureMatches } from './sigv2.js';
import {
  assertFresh,
  assertHeadersSigned,
  assertScope,
  parseClaims,
  type SignedClaims,
  signatureMatches,
  signingKey,
  UNSIGNED_PAYLOAD,
} from './sigv4.js';

/** What the signature check established about a request, for the handlers that read its body. */
export interface S3Principal {
  readonly tenant: string;
  /** The scope of the API key that signed, when it is scoped. */
  readonly scope?: KeyScope | undefined;
  /** The payload mode: x-amz-content-sha256 (a hash, UNSIGNED-PAYLOAD or an aws-chunked mode). */
  readonly payloadHash: string;
  /** SigV4's claims and signing key, which aws-chunked chunk signatures continue; none for SigV2. */
  readonly chunkSigning?: { readonly claims: SignedClaims; readonly key: Buffer };
}

const principals = new WeakMap<FastifyRequest, S3Principal>();

export function principalOf(request: FastifyRequest): S3Principal {
  const principal = principals.get(request);
  if (!principal) throw new Error('S3 request handled before its signature was checked');
  return principal;
}

/** The request as a signature covers it: method, path and query exactly as sent, headers. */
export function requestToVerify(request: FastifyRequest): V2RequestToVerify {
  const url = signedUrlOf(request.raw);
  const at = url.indexOf('?');
  const routed = (request.raw.url ?? '').split('?')[0] ?? '';
  return {
    method: request.method,
    rawPath: at < 0 ? url : url.slice(0, at),
    rawQuery: at < 0 ? '' : url.slice(at + 1),
    headers: request.headers,
    rawHeaders: request.raw.rawHeaders,
    bucketPath: routed.startsWith(`${S3_BASE_PATH}/`) ? routed.slice(S3_BASE_PATH.length) : routed,
  };
}

/**
 * An API key's tenant, scope and secret, opened from the sealed copy; InvalidAccessKeyId when
 * there is none (or it was revoked).
 */
export async function openApiKey(
  ctx: AppContext,
  accessKeyId: string,
): Promise<{ tenant: string; secret: string; scope: KeyScope | undefined }> {
  const record = await findApiKey(ctx.apiKeys, accessKeyId);
  const secret = record?.sealedSecret ? ctx.sealer.open(record.clientId, record.sealedSecret) : undefined;
  if (!record || !secret) throw s3Errors.invalidAccessKeyId();
  return { tenant: record.tenant, secret, scope: scopeOf(record) };
}

/** The caller is `tenant` (through a key of `scope`): it pays rate and slots as on the storage API. */
export function admitTenant(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  tenant: string,
  scope: KeyScope | undefined,
): void {
  request.tenant = tenant;
  request.principal = { kind: 'user', id: tenant, scope };
  ctx.rateLimits.take(tenant);
  ctx.tenantSlots.enter(tenant, reply.raw);
}

/**
 * The S3 endpoint's authentication: a SigV4 signature (Authorization header or presigned query),
 * or a SigV2 one (sigv2.ts), made with an API key's secret, opened from its sealed copy. The key's
 * tenant is the caller. A request with no credential at all is anonymous (public buckets and
 * objects answer it); a POST Object form upload has its credentials in form fields: its handler
 * authenticates it from them (post-object.ts).
 */
export function createS3Authenticate(ctx: AppContext) {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (isPostObject(request)) return;
    const signed = requestToVerify(request);
    if (!hasCredentials(signed)) {
      // Anonymous: only what is public answers it (the one authorization decision says what).
      principals.set(request, { tenant: '', payloadHash: UNSIGNED_PAYLOAD });
      admitAnonymous(ctx, request, reply);
      return;
    }
    const principal = isSigV2(signed) ? await verifySigV2(ctx, signed) : await verifySigV4(ctx, signed);
    principals.set(request, principal);
    admitTenant(ctx, request, reply, principal.tenant, principal.scope);
  };
}

async function verifySigV4(ctx: AppContext, signed: V2RequestToVerify): Promise<S3Principal> {
  const claims = parseClaims(signed);
  if (!claims) throw s3Errors.accessDenied('Anonymous access is not allowed: sign requests with an API key (docs/s3.md)');
  assertScope(claims, ctx.config.s3ApiRegion);
  assertHeadersSigned(claims, signed.headers);
  assertFresh(claims, new URLSearchParams(signed.rawQuery), Date.now());
  const { tenant, secret, scope } = await openApiKey(ctx, claims.accessKeyId);
  const key = signingKey(secret, claims);
  if (!signatureMatches(signed, claims, key)) throw s3Errors.signatureMismatch();
  return { tenant, scope, payloadHash: claims.payloadHash, chunkSigning: { claims, key } };
}

/**
 * SigV2 has no payload hash: the body is UNSIGNED-PAYLOAD unless the client sent (and so signed,
 * as every x-amz-* header is) an x-amz-content-sha256, which is then checked. Chunk signatures are
 * SigV4's and cannot follow a SigV2 signature.
 */
async function verifySigV2(ctx: AppContext, signed: V2RequestToVerify): Promise<S3Principal> {
  const claims = parseV2Claims(signed);
  assertV2Fresh(claims, signed, Date.now());
  const { tenant, secret, scope } = await openApiKey(ctx, claims.accessKeyId);
  if (!v2SignatureMatches(signed, claims, secret)) throw s3Errors.signatureMismatch();
  const payloadHash = single(signed.headers['x-amz-content-sha256']) ?? UNSIGNED_PAYLOAD;
  if (payloadHash === STREAMING_SIGNED || payloadHash === STREAMING_SIGNED_TRAILER)
    throw s3Errors.invalidRequest(`${payloadHash} needs a SigV4 signature (AWS4-HMAC-SHA256)`);
  return { tenant, scope, payloadHash };
}

/** Whether a request carries an S3 credential: an Authorization header, or a presigned URL's query. */
function hasCredentials(signed: V2RequestToVerify): boolean {
  if (signed.headers.authorization !== undefined) return true;
  const query = new URLSearchParams(signed.rawQuery);
  return ['X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Algorithm', 'AWSAccessKeyId', 'Signature'].some((name) => query.has(name));
}
