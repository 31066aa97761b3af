// CopyObject.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../http/context.js';
import { type ObjectAcl, withChosen } from '../storage/model.js';
import { contentOf } from '../storage/object-attributes.js';
import { md5Etag } from '../storage/object-etags.js';
import type { ObjectRef } from '../storage/object-ref.js';
import { DEFAULT_CONTENT_TYPE } from '../storage/object-service.js';
import { checksumElements } from './checksum-answers.js';
import { s3Errors } from './errors.js';
import { assertSupportedWrite, contentTypeOf, copySourceCheck, copySourceOf, s3AttributesOf } from './object-requests.js';
import { sendXml } from './xml.js';

/**
 * CopyObject: the destination names the source's blob; no byte is read or written. With
 * `x-amz-metadata-directive: REPLACE` the copy takes the request's content type and metadata,
 * which is also how S3 clients change an object's metadata in place (a copy onto itself).
 */
export async function copyObject(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, ref: ObjectRef, acl?: ObjectAcl) {
  assertSupportedWrite(request);
  const { source, versionId: sourceVersionId } = await copySourceOf(ctx, request);
  const directive = String(request.headers['x-amz-metadata-directive'] ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') throw s3Errors.invalidArgument('x-amz-metadata-directive must be COPY or REPLACE');
  const replace =
    directive === 'REPLACE'
      ? { contentType: contentTypeOf(request) ?? DEFAULT_CONTENT_TYPE, attributes: s3AttributesOf(request, acl) }
      : undefined;
  // With COPY, the copy keeps the source's attributes, whose ACL (if any) names the source's key and
  // so gives nothing here; an ACL the request asks for is set on the copy right after.
  // A copy of an earlier version onto its own key is how S3 clients restore one: it changes the value.
  if (source.type === ref.type && source.key === ref.key && !replace && sourceVersionId === undefined)
    throw s3Errors.invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  const checkSource = copySourceCheck(request);
  await ctx.pause('copy.before-copy');
  let info = await ctx.objects.copy(source, ref, { checkSource, replace, sourceVersionId });
  if (acl && !replace)
    info = await ctx.objects.copy(ref, ref, {
      checkSource: (copied) => {
        if (copied.sha256 !== info.sha256) throw s3Errors.invalidRequest('The copy changed before its ACL was set; send the request again');
      },
      replace: { contentType: info.contentType, attributes: withChosen(info.attributes, { acl }) },
    });
  if (info.versionId) reply.header('x-amz-version-id', info.versionId);
  if (sourceVersionId !== undefined) reply.header('x-amz-copy-source-version-id', sourceVersionId);
  return sendXml(reply, 'CopyObjectResult', {
    ETag: md5Etag(info),
    LastModified: new Date(info.lastModified).toISOString(),
    ...checksumElements(contentOf(info.attributes).s3Checksum),
  });
}
