import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isStorageType } from 'stowage-client/protocol';
import { findApiKey } from '../auth/api-keys.js';
import type { AppContext } from '../http/context.js';
import { applyCorsRules, preflightOf, sendPreflight, serverCorsRules, varyByOrigin } from '../http/cors.js';
import { isStorageTypeOrBucketName } from '../storage/bucket-names.js';
import { type CorsRule, findCorsRule } from '../storage/cors-rules.js';
import { requestToVerify } from './authenticate.js';
import { handleS3Error } from './error-handler.js';
import { S3Error } from './errors.js';
import { S3_BASE_PATH } from './root-listener.js';
import { parseClaims } from './sigv4.js';

/**
 * The CORS rules a request to the S3 API is judged by: those of the bucket it names, of the
 * tenant whose API key its credential names (Authorization header or a presigned URL's
 * X-Amz-Credential, which is no secret); else, and for a request that names no key (the
 * preflight of a header-signed request carries none), the server-wide STOWAGE_CORS_ORIGINS.
 * The signature is not checked here: CORS only lets a page read an answer, and the request
 * itself is still authenticated before anything is done.
 */
export async function s3CorsRules(ctx: AppContext, request: FastifyRequest): Promise<readonly CorsRule[]> {
  const name = bucketSegment(request.url);
  const bucket = name === undefined ? undefined : await corsBucketOf(ctx, request, name);
  if (bucket === undefined) return serverCorsRules(ctx.config);
  return (await ctx.bucketCors.rules(bucket)) ?? serverCorsRules(ctx.config);
}

/** Whose rules: a named bucket's (its owner's row), or the built-in bucket of the credential's user. */
async function corsBucketOf(ctx: AppContext, request: FastifyRequest, name: string): Promise<{ tenant: string; type: string } | undefined> {
  if (isStorageType(name)) {
    const tenant = await credentialTenant(ctx, request);
    return tenant === undefined ? undefined : { tenant, type: name };
  }
  if (!isStorageTypeOrBucketName(name)) return undefined;
  const bucket = await ctx.buckets.find(name);
  return bucket && { tenant: bucket.owner, type: name };
}

/**
 * Adds the CORS headers to every answer of the S3 scope, errors too, so a page can read why it
 * was refused. Only a request with an Origin (a browser's, cross-origin) costs a lookup.
 */
export function createS3CorsHeaders(ctx: AppContext) {
  return function corsHeaders(request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void {
    varyByOrigin(reply);
    if (request.headers.origin === undefined) {
      done();
      return;
    }
    s3CorsRules(ctx, request).then((rules) => {
      applyCorsRules(request, reply, rules);
      done();
    }, done);
  };
}

/**
 * Preflights (OPTIONS) of the S3 API, answered as S3 does: 200 with the first matching rule's
 * headers, 403 AccessForbidden when none matches or there are no rules, 400 without Origin or
 * Access-Control-Request-Method. A scope of their own: no signature is asked of a preflight.
 */
export function registerS3Preflights(app: FastifyInstance, ctx: AppContext): void {
  app.setErrorHandler(handleS3Error);
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const preflight = preflightOf(request);
    const { origin, method } = preflight;
    if (origin === undefined) throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.');
    if (method === undefined) throw new S3Error('BadRequest', 'Invalid Access-Control-Request-Method: null');
    varyByOrigin(reply, true);
    const bucket = bucketSegment(request.url);
    if (bucket !== undefined && !isStorageType(bucket) && !(isStorageTypeOrBucketName(bucket) && (await ctx.buckets.find(bucket))))
      throw new S3Error('NoSuchBucket', `The specified bucket does not exist: ${bucket}`);
    const rules = await s3CorsRules(ctx, request);
    if (rules.length === 0) throw new S3Error('AccessForbidden', 'CORSResponse: CORS is not enabled for this bucket.');
    const rule = findCorsRule(rules, { origin, method, headers: preflight.headers });
    if (!rule)
      throw new S3Error(
        'AccessForbidden',
        "CORSResponse: This CORS request is not allowed. This is usually because the evaluation of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not allowed by the resource's CORS spec.",
      );
    return sendPreflight(reply, rule, { origin, method, headers: preflight.headers });
  };
  for (const url of [S3_BASE_PATH, `${S3_BASE_PATH}/`, `${S3_BASE_PATH}/:bucket`, `${S3_BASE_PATH}/:bucket/*`]) app.options(url, handler);
}

/** The tenant of the API key a request's credential names, if it names one the server knows. */
async function credentialTenant(ctx: AppContext, request: FastifyRequest): Promise<string | undefined> {
  let accessKeyId: string | undefined;
  try {
    accessKeyId = parseClaims(requestToVerify(request))?.accessKeyId;
  } catch {
    // A malformed credential names no tenant; authentication answers it.
    return undefined;
  }
  return accessKeyId === undefined ? undefined : (await findApiKey(ctx.apiKeys, accessKeyId))?.tenant;
}

/** The path segment after /s3, undecoded (bucket names need no escapes); undefined for the service. */
function bucketSegment(url: string): string | undefined {
  const path = url.split('?')[0] ?? '';
  const rest = path.slice(S3_BASE_PATH.length + 1);
  if (rest === '') return undefined;
  const slash = rest.indexOf('/');
  return slash < 0 ? rest : rest.slice(0, slash);
}
