import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isStorageType } from 'stowage-client/protocol';
import type { AppContext } from '../http/context.js';
import { isPublicGrantee } from '../storage/authorizer.js';
import type { Grant, Principal } from '../storage/bucket-model.js';
import { assertAllowed } from '../storage/bucket-service.js';
import { type ObjectAcl, objectGrantsAt, withChosen } from '../storage/object-attributes.js';
import { accessControlPolicyBody, parseAccessControlPolicy } from './acl-xml.js';
import { s3Errors } from './errors.js';
import { grantsFromHeaders } from './grant-headers.js';
import { sendXml } from './xml.js';

/**
 * Get/PutBucketAcl and Get/PutObjectAcl. A named bucket's ACL is its bucket-wide grants (grants
 * of a prefix, which S3's ACL cannot express, are kept by a PutBucketAcl and managed on storage
 * API v1); an object's ACL is its own grants, valid at its bucket and key. The built-in buckets
 * are private to their user: their ACL is the owner's FULL_CONTROL and cannot grant more.
 */
export async function bucketAclOperation(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  bucket: string,
  readBody: () => Promise<string>,
) {
  if (request.method !== 'GET' && request.method !== 'PUT') throw s3Errors.notImplemented(`${request.method} ?acl`);
  if (isStorageType(bucket)) return builtInAcl(ctx, request, reply, bucket, readBody);
  if (request.method === 'GET') {
    const { bucket: named } = await ctx.access.locate(request.principal, bucket, 'bucket:read-acl');
    if (!named) throw new Error('a named bucket located without its record');
    return sendXml(reply, 'AccessControlPolicy', accessControlPolicyBody(named.owner, named.settings.grants.filter(bucketWide)));
  }
  const body = await readBody();
  await ctx.buckets.change(request.principal, bucket, 'bucket:write-acl', (current) => {
    const grants = aclOfRequest(request, body, current.owner, '');
    return { settings: { ...current.settings, grants: [...current.settings.grants.filter((grant) => !bucketWide(grant)), ...grants] } };
  });
  return reply.code(200).send();
}

export async function objectAclOperation(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  bucket: string,
  key: string,
  readBody: () => Promise<string>,
) {
  if (request.method !== 'GET' && request.method !== 'PUT') throw s3Errors.notImplemented(`${request.method} ?acl`);
  if (isStorageType(bucket)) {
    await ctx.objects.head(await ctx.access.ref(request.principal, bucket, key, 'object:read'));
    return builtInAcl(ctx, request, reply, bucket, readBody);
  }
  const action = request.method === 'GET' ? 'object:read-acl' : 'object:write-acl';
  const { tenant, bucket: named } = await ctx.access.locate(request.principal, bucket, action, key);
  if (!named) throw new Error('a named bucket located without its record');
  const ref = { tenant, type: bucket, key };
  const info = await ctx.objects.head(ref);
  if (request.method === 'GET') {
    const grants = objectGrantsAt(info.attributes, { bucket, owner: named.owner, key });
    return sendXml(reply, 'AccessControlPolicy', accessControlPolicyBody(named.owner, grants));
  }
  const grants = aclOfRequest(request, await readBody(), named.owner, key);
  assertPublicAclAllowed(named.settings.publicAccessBlock?.blockPublicAcls, grants);
  const acl: ObjectAcl | undefined = grants.length > 0 ? { bucket, owner: named.owner, key, grants } : undefined;
  // The same object with its ACL changed: a copy onto itself, of the very version checked above.
  await ctx.objects.copy(ref, ref, {
    checkSource: (source) => {
      if (source.sha256 !== info.sha256 || source.lastModified !== info.lastModified)
        throw s3Errors.invalidRequest('The object changed while its ACL was being set; send the request again');
    },
    replace: { contentType: info.contentType, attributes: withChosen(info.attributes, { acl }) },
    inPlace: true,
  });
  return reply.code(200).send();
}

/**
 * The object ACL a write (PutObject, CopyObject, CreateMultipartUpload) asks for with x-amz-acl
 * or x-amz-grant-* headers; undefined for none or a private one. One that grants anything needs
 * WRITE_ACP on the key as well as WRITE. The built-in buckets take only private ACLs.
 */
export async function objectAclOfWrite(
  ctx: AppContext,
  principal: Principal,
  headers: IncomingHttpHeaders,
  bucket: string,
  key: string,
): Promise<ObjectAcl | undefined> {
  if (headers['x-amz-acl'] === undefined && !Object.keys(headers).some((name) => name.startsWith('x-amz-grant-'))) return undefined;
  if (isStorageType(bucket)) {
    if ((grantsFromHeaders(headers, key) ?? []).length > 0)
      throw s3Errors.notImplemented('Sharing an object of a built-in bucket (data, tmp, result): create a bucket to share from');
    return undefined;
  }
  const { bucket: named } = await ctx.access.locate(principal, bucket, 'object:write', key);
  if (!named) throw new Error('a named bucket located without its record');
  const grants = grantsFromHeaders(headers, key, named.owner) ?? [];
  // A private ACL (private, bucket-owner-full-control, grants to the owner alone) grants nothing:
  // the write leaves the key private, as one without an ACL does, so WRITE alone allows it.
  // rclone sends x-amz-acl: private with every upload.
  if (grants.length === 0) return undefined;
  assertAllowed(principal, 'object:write-acl', named, key);
  assertPublicAclAllowed(named.settings.publicAccessBlock?.blockPublicAcls, grants);
  return { bucket, owner: named.owner, key, grants };
}

/** The grants of a PutBucketAcl/PutObjectAcl: its headers or its AccessControlPolicy body, not both. */
function aclOfRequest(request: FastifyRequest, body: string, owner: string, prefix: string): Grant[] {
  const fromHeaders = grantsFromHeaders(request.headers, prefix, owner);
  if (fromHeaders !== undefined && body.trim() !== '') throw s3Errors.invalidRequest('Send an ACL in headers or in the body, not both');
  if (fromHeaders !== undefined) return fromHeaders;
  if (body.trim() === '') throw s3Errors.invalidRequest('Send an ACL: x-amz-acl, x-amz-grant-* headers or an AccessControlPolicy body');
  return parseAccessControlPolicy(body, { owner, prefix });
}

function assertPublicAclAllowed(blocked: boolean | undefined, grants: readonly Grant[]): void {
  if (blocked && grants.some((grant) => isPublicGrantee(grant.grantee)))
    throw s3Errors.accessDenied('The bucket blocks public ACLs (PublicAccessBlock BlockPublicAcls)');
}

function bucketWide(grant: Grant): boolean {
  return grant.prefix === '';
}

/** A built-in bucket's (or its object's) ACL: the owner's FULL_CONTROL; a PUT may only say as much. */
async function builtInAcl(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, bucket: string, readBody: () => Promise<string>) {
  const { tenant } = await ctx.access.locate(request.principal, bucket, 'bucket:read-acl');
  if (request.method === 'GET') return sendXml(reply, 'AccessControlPolicy', accessControlPolicyBody(tenant, []));
  const body = await readBody();
  const grants = aclOfRequest(request, body, tenant, '');
  if (grants.length > 0) throw s3Errors.notImplemented('Sharing a built-in bucket (data, tmp, result): create a bucket to share');
  return reply.code(200).send();
}
