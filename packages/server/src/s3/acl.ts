import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../http/context.js';
import type { ObjectRef } from '../storage/object-ref.js';
import { ownerXml } from './buckets.js';
import { s3Errors } from './errors.js';
import { single } from './header-value.js';
import { sendXml } from './xml.js';

/**
 * Canned ACLs that say what every bucket and object here already is: private to the tenant that
 * owns it (`bucket-owner-full-control` grants the bucket's owner, the same tenant). Any other
 * canned ACL or grant would share something, which is not built yet: NotImplemented.
 */
const PRIVATE_CANNED_ACLS = new Set(['private', 'bucket-owner-full-control']);

/** Refuses an x-amz-acl asking for more than private; the private ones are what a write does anyway. */
export function assertPrivateAcl(request: Pick<FastifyRequest, 'headers'>): void {
  const acl = single(request.headers['x-amz-acl']);
  if (acl !== undefined && !PRIVATE_CANNED_ACLS.has(acl)) throw s3Errors.notImplemented(`x-amz-acl: ${acl}`);
}

/** GetBucketAcl and GetObjectAcl: the owner, with FULL_CONTROL, and no other grant (S3's answer for a private bucket). */
export async function getAcl(ctx: AppContext, reply: FastifyReply, tenant: string, object?: ObjectRef) {
  // An object's ACL exists only with the object.
  if (object) await ctx.objects.head(object);
  const owner = ownerXml(tenant);
  return sendXml(reply, 'AccessControlPolicy', {
    Owner: owner,
    AccessControlList: {
      Grant: {
        Grantee: {
          '@_xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
          '@_xsi:type': 'CanonicalUser',
          ...owner,
        },
        Permission: 'FULL_CONTROL',
      },
    },
  });
}

/**
 * PutBucketAcl and PutObjectAcl with a private canned ACL (and no grants or body): accepted, as it
 * changes nothing. Anything that would grant access to others is NotImplemented.
 */
export async function putAcl(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, object?: ObjectRef) {
  const acl = single(request.headers['x-amz-acl']);
  const length = Number(single(request.headers['content-length']) ?? '0');
  if (acl === undefined || length > 0 || request.headers['transfer-encoding'] !== undefined)
    throw s3Errors.notImplemented('An ACL other than a private canned one (x-amz-acl: private)');
  assertPrivateAcl(request);
  if (object) await ctx.objects.head(object);
  return reply.code(200).send();
}
