import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { passBodiesThrough } from '../http/body-passthrough.js';
import type { AppContext } from '../http/context.js';
import { continueOnFirstRead } from '../http/expect-continue.js';
import { keyFromRawUrl } from '../http/request-key.js';
import { isStorageTypeOrBucketName } from '../storage/bucket-names.js';
import { bucketAclOperation, objectAclOfWrite, objectAclOperation } from './acl.js';
import { createS3Authenticate, principalOf } from './authenticate.js';
import { bucketCorsOperation } from './bucket-cors.js';
import { BUCKET_SETTINGS } from './bucket-settings.js';
import { createBucket, deleteBucket, listBuckets, requireSigned } from './buckets.js';
import { createS3CorsHeaders } from './cors.js';
import { deleteObjects } from './delete-objects.js';
import { handleS3Error } from './error-handler.js';
import { s3Errors } from './errors.js';
import { listObjectsV1, listObjectsV2 } from './listing.js';
import { abortMultipartUpload, createMultipartUpload, listMultipartUploads, listParts, uploadPart } from './multipart.js';
import { completeMultipartUpload } from './multipart-complete.js';
import { getObjectAttributes } from './object-attributes.js';
import { copyObject } from './object-copy.js';
import { assertValidKey } from './object-key.js';
import { getObject } from './object-reads.js';
import { deleteObject, putObject } from './object-writes.js';
import { type PayloadOptions, payloadOf } from './payload.js';
import { postObject } from './post-object.js';
import { isPostObject } from './post-object-request.js';
import { S3_BASE_PATH } from './root-listener.js';
import { sha256Hex } from './sigv4.js';
import { deleteObjectVersion, listObjectVersions } from './versions.js';
import { sendXml } from './xml.js';

/** Path segments before the key: s3, the bucket. */
const KEY_AFTER_BUCKET = 2;
/** Largest XML request body (DeleteObjects of 1000 keys of 1 KiB, CompleteMultipartUpload of 10,000 parts). */
const MAX_XML_BYTES = 4 * 1024 * 1024;
/** Query parameters that name an operation (a subresource) rather than shape one. */
const BUCKET_SUBRESOURCES = new Set(['location', 'list-type', 'delete', 'uploads', 'versions', 'acl', 'cors', ...BUCKET_SETTINGS.keys()]);
const OBJECT_SUBRESOURCES = new Set(['uploads', 'uploadId', 'partNumber', 'acl', 'attributes']);
/** Query parameters that only shape an operation's answer, on objects and buckets. */
const PLAIN_PARAMETERS =
  /^(prefix|delimiter|max-keys|marker|continuation-token|start-after|encoding-type|fetch-owner|x-id|response-.*|[xX]-[aA]mz-.*|AWSAccessKeyId|Signature|Expires|versionId|key-marker|version-id-marker|upload-id-marker|max-uploads|max-parts|part-number-marker|max-buckets|bucket-region)$/;

/**
 * The S3-compatible API, path-style under /s3 (docs/s3.md): buckets are the caller's storage
 * types, credentials are API keys (SigV4), and every operation maps onto the same index and
 * blobs as storage API v1. Errors are S3's XML; an operation not listed is NotImplemented.
 */
export function registerS3(app: FastifyInstance, ctx: AppContext): void {
  passBodiesThrough(app);
  app.setErrorHandler(handleS3Error);
  app.addHook('onRequest', sendRequestIds);
  // Before authentication, so that a page can read a refusal too.
  app.addHook('onRequest', createS3CorsHeaders(ctx));
  app.addHook('onRequest', createS3Authenticate(ctx));
  const methods: HTTPMethods[] = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'];

  app.route({ method: methods, url: S3_BASE_PATH, exposeHeadRoute: false, handler: (request, reply) => service(ctx, request, reply) });
  app.route({
    method: methods,
    url: `${S3_BASE_PATH}/`,
    exposeHeadRoute: false,
    handler: (request, reply) => service(ctx, request, reply),
  });
  app.route<{ Params: { bucket: string } }>({
    method: methods,
    url: `${S3_BASE_PATH}/:bucket`,
    exposeHeadRoute: false,
    handler: (request, reply) => bucketOperation(ctx, request, reply, request.params.bucket),
  });
  app.route<{ Params: { bucket: string } }>({
    method: methods,
    url: `${S3_BASE_PATH}/:bucket/*`,
    exposeHeadRoute: false,
    handler: (request, reply) => {
      const key = keyFromRawUrl(request.url, KEY_AFTER_BUCKET);
      if (key === '') return bucketOperation(ctx, request, reply, request.params.bucket);
      return objectOperation(ctx, request, reply, request.params.bucket, key);
    },
  });
}

async function service(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  if (request.method !== 'GET') throw s3Errors.notImplemented(`${request.method} on the service`);
  const user = requireSigned(request.principal, 'ListBuckets');
  return sendXml(reply, 'ListAllMyBucketsResult', await listBuckets(ctx, user, queryOf(request)));
}

async function bucketOperation(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, bucket: string) {
  // Authenticated from its form fields, before anything about the bucket is said.
  if (isPostObject(request)) return postObject(ctx, request, reply, bucket);
  const query = queryOf(request);
  assertKnownParameters(query, BUCKET_SUBRESOURCES, `this ${request.method} on a bucket`);
  const principal = request.principal;
  const body = (options?: PayloadOptions) => readBody(request, reply, options);
  if (request.method === 'PUT' && query.size === 0) return createBucket(ctx, request, reply, bucket, body);
  if (!isStorageTypeOrBucketName(bucket)) throw s3Errors.noSuchBucket(bucket);
  if (query.has('acl')) return bucketAclOperation(ctx, request, reply, bucket, body);
  if (query.has('cors')) return bucketCorsOperation(ctx, request, reply, bucket, body);
  for (const [name, operation] of BUCKET_SETTINGS) if (query.has(name)) return operation(ctx, request, reply, bucket, body);
  switch (request.method) {
    case 'HEAD':
      await ctx.access.locate(principal, bucket, 'bucket:list');
      return reply.code(200).header('x-amz-bucket-region', ctx.config.s3ApiRegion).send();
    case 'GET': {
      const prefix = query.get('prefix') ?? '';
      const { tenant, type } = await ctx.access.locate(principal, bucket, 'bucket:list', query.has('location') ? '' : prefix);
      // S3 names us-east-1 by an empty constraint.
      if (query.has('location'))
        return sendXml(reply, 'LocationConstraint', ctx.config.s3ApiRegion === 'us-east-1' ? {} : { '#text': ctx.config.s3ApiRegion });
      if (query.has('uploads')) return listMultipartUploads(ctx, reply, tenant, type, query);
      if (query.has('versions')) {
        // A listing of versions tells what a read of each would (sizes, ETags).
        await ctx.access.locateUnder(principal, bucket, 'object:read', prefix);
        return sendXml(reply, 'ListVersionsResult', await listObjectVersions(ctx, tenant, type, query));
      }
      if (query.get('list-type') === '2') return sendXml(reply, 'ListBucketResult', await listObjectsV2(ctx, tenant, type, query));
      if (query.has('list-type')) throw s3Errors.invalidArgument('list-type must be 2');
      return sendXml(reply, 'ListBucketResult', await listObjectsV1(ctx, tenant, type, query));
    }
    case 'POST':
      if (query.has('delete')) return sendXml(reply, 'DeleteResult', await deleteObjects(ctx, principal, bucket, await body()));
      throw s3Errors.notImplemented(
        'This POST on a bucket (a POST Object form upload is multipart/form-data, with no Authorization header)',
      );
    case 'DELETE':
      if (query.size > 0) throw s3Errors.notImplemented('This DELETE on a bucket');
      return deleteBucket(ctx, request, reply, bucket);
    default:
      throw s3Errors.notImplemented(`${request.method} on a bucket with these parameters`);
  }
}

async function objectOperation(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, bucket: string, key: string) {
  if (!isStorageTypeOrBucketName(bucket)) throw s3Errors.noSuchBucket(bucket);
  assertValidKey(key);
  const query = queryOf(request);
  assertKnownParameters(query, OBJECT_SUBRESOURCES, `this ${request.method} on an object`);
  const principal = request.principal;
  if (query.has('acl')) return objectAclOperation(ctx, request, reply, bucket, key, () => readBody(request, reply));
  const writeRef = () => ctx.access.ref(principal, bucket, key, 'object:write');
  if (query.has('uploads')) {
    if (request.method !== 'POST') throw s3Errors.notImplemented(`${request.method} ?uploads on an object`);
    const acl = await objectAclOfWrite(ctx, principal, request.headers, bucket, key);
    return createMultipartUpload(ctx, request, reply, await writeRef(), acl);
  }
  if (query.has('uploadId')) {
    const ref = await writeRef();
    if (request.method === 'PUT') return uploadPart(ctx, request, reply, ref, query);
    // Complete's x-amz-checksum-* headers are the object's checksum, not its XML body's.
    if (request.method === 'POST')
      return completeMultipartUpload(ctx, request, reply, ref, query, await readBody(request, reply, { checksumHeaders: false }));
    if (request.method === 'DELETE') return abortMultipartUpload(ctx, reply, ref, query);
    if (request.method === 'GET') return listParts(ctx, reply, ref, query);
    throw s3Errors.notImplemented(`${request.method} on a multipart upload`);
  }
  if (query.has('attributes')) {
    if (request.method !== 'GET') throw s3Errors.notImplemented(`${request.method} ?attributes on an object`);
    const { ref, check } = await ctx.access.readable(principal, bucket, key);
    return getObjectAttributes(ctx, request, reply, ref, check);
  }
  switch (request.method) {
    case 'GET':
    case 'HEAD': {
      const { ref, check } = await ctx.access.readable(principal, bucket, key);
      return getObject(ctx, request, reply, ref, query, check);
    }
    case 'PUT': {
      const acl = await objectAclOfWrite(ctx, principal, request.headers, bucket, key);
      if (request.headers['x-amz-copy-source'] !== undefined) return copyObject(ctx, request, reply, await writeRef(), acl);
      return putObject(ctx, request, reply, await writeRef(), acl);
    }
    case 'DELETE':
      if (query.has('versionId'))
        return deleteObjectVersion(ctx, reply, await ctx.access.ref(principal, bucket, key, 'object:delete'), query.get('versionId') ?? '');
      return deleteObject(ctx, reply, await ctx.access.ref(principal, bucket, key, 'object:delete'));
    default:
      throw s3Errors.notImplemented(`${request.method} on an object`);
  }
}

/**
 * S3's request ids on every answer, errors included (botocore reads RequestId from them): ours,
 * and as the extended id, the same in base64 (there is no separate host id to give).
 */
function sendRequestIds(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.header('x-amz-request-id', request.id);
  reply.header('x-amz-id-2', Buffer.from(request.id).toString('base64'));
  done();
}

function assertKnownParameters(query: URLSearchParams, subresources: ReadonlySet<string>, what: string): void {
  for (const name of query.keys()) {
    if (!subresources.has(name) && !PLAIN_PARAMETERS.test(name)) throw s3Errors.notImplemented(`"${name}" (${what})`);
  }
}

function queryOf(request: FastifyRequest): URLSearchParams {
  const url = request.raw.url ?? '';
  const at = url.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : url.slice(at + 1));
}

/** A small XML request body, read whole (bounded), checked against its signed hash and digests. */
async function readBody(request: FastifyRequest, reply: FastifyReply, options: PayloadOptions = {}): Promise<string> {
  continueOnFirstRead(request, reply);
  const payload = payloadOf(request, principalOf(request), options);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of payload.body) {
    size += chunk.length;
    if (size > MAX_XML_BYTES) throw s3Errors.invalidRequest('The XML body is too large');
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  if (payload.expectedSha256 && sha256Hex(body) !== payload.expectedSha256) throw s3Errors.contentSha256Mismatch();
  return body.toString('utf8');
}
