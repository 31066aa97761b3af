import type { FastifyReply, FastifyRequest } from 'fastify';
import { findApiKey } from '../auth/api-keys.js';
import type { AppContext } from '../http/context.js';
import { s3Errors } from './errors.js';
import { signedUrlOf } from './root-listener.js';
import {
  assertFresh,
  assertHeadersSigned,
  assertScope,
  parseClaims,
  type RequestToVerify,
  type SignedClaims,
  signatureMatches,
  signingKey,
} from './sigv4.js';

/** What the signature check established about a request, for the handlers that read its body. */
export interface S3Principal {
  readonly tenant: string;
  readonly claims: SignedClaims;
  readonly key: Buffer;
}

const principals = new WeakMap<FastifyRequest, S3Principal>();

export function principalOf(request: FastifyRequest): S3Principal {
  const principal = principals.get(request);
  if (!principal) throw new Error('S3 request handled before its signature was checked');
  return principal;
}

/** The request as SigV4 sees it: method, path and query exactly as sent, headers. */
export function requestToVerify(request: FastifyRequest): RequestToVerify {
  const url = signedUrlOf(request.raw);
  const at = url.indexOf('?');
  return {
    method: request.method,
    rawPath: at < 0 ? url : url.slice(0, at),
    rawQuery: at < 0 ? '' : url.slice(at + 1),
    headers: request.headers,
  };
}

/**
 * The S3 endpoint's authentication: a SigV4 signature (Authorization header or presigned query)
 * made with an API key's secret, opened from its sealed copy. The key's tenant is the caller; it
 * pays rate and slots as on the storage API. Anonymous requests are refused.
 */
export function createS3Authenticate(ctx: AppContext) {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const signed = requestToVerify(request);
    const claims = parseClaims(signed);
    if (!claims) throw s3Errors.accessDenied('Anonymous access is not allowed: sign requests with an API key (docs/s3.md)');
    assertScope(claims, ctx.config.s3ApiRegion);
    assertHeadersSigned(claims, signed.headers);
    assertFresh(claims, new URLSearchParams(signed.rawQuery), Date.now());
    const record = await findApiKey(ctx.apiKeys, claims.accessKeyId);
    const secret = record?.sealedSecret ? ctx.sealer.open(record.clientId, record.sealedSecret) : undefined;
    if (!record || !secret) throw s3Errors.invalidAccessKeyId();
    const key = signingKey(secret, claims);
    if (!signatureMatches(signed, claims, key)) throw s3Errors.signatureMismatch();
    principals.set(request, { tenant: record.tenant, claims, key });
    request.tenant = record.tenant;
    ctx.rateLimits.take(record.tenant);
    ctx.tenantSlots.enter(record.tenant, reply.raw);
  };
}
