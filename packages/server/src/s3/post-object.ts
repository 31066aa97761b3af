import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../http/context.js';
import { continueOnFirstRead } from '../http/expect-continue.js';
import { publicOrigin } from '../http/origin.js';
import { abortOnDisconnect } from '../http/receive-upload.js';
import { isStorageTypeOrBucketName } from '../storage/bucket-names.js';
import { md5Etag, withMd5Etag } from '../storage/object-etags.js';
import { objectAclOfWrite } from './acl.js';
import { admitTenant, openApiKey } from './authenticate.js';
import { S3Error, s3Errors } from './errors.js';
import { assertValidKey } from './object-key.js';
import { assertSupportedWrite, contentTypeOf, s3AttributesOf } from './object-requests.js';
import { malformedPostRequest, readPostForm } from './post-form.js';
import { checkPostPolicy, parsePostPolicy, type SizeRange } from './post-policy.js';
import { signedUrlOf } from './root-listener.js';
import { signV2 } from './sigv2.js';
import { ALGORITHM, assertScope, equalHex, equalSignature, parseCredential, signingKey } from './sigv4.js';
import { xmlDocument } from './xml.js';

/** The variable S3 replaces with the file's name in the key field. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: S3's own spelling of the variable, not a template.
const FILENAME_VARIABLE = '${filename}';
/** Form fields that are the signature's, never the object's. */
const AUTH_FIELDS = new Set(['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature', 'x-amz-security-token']);
/** Form fields stored with the object as the headers of a PutObject are. */
const OBJECT_FIELDS = new Set(['content-type', 'cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires']);

/**
 * POST Object: an HTML form upload to a bucket (multipart/form-data). The form carries its
 * credentials: a policy document and its signature (SigV4's x-amz-* fields, or SigV2's
 * AWSAccessKeyId and signature). The fields before the file are checked against the policy, then
 * the file streams into the object. The answer is 204, or success_action_status's 200 or 201 (a
 * PostResponse document), or a 303 to success_action_redirect.
 */
export async function postObject(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, bucket: string) {
  continueOnFirstRead(request, reply);
  const form = await readPostForm(request.raw);
  const fields = new Map(form.fields);
  const { tenant, keyScope, policy } = await authenticateForm(ctx, fields);
  admitTenant(ctx, request, reply, tenant, keyScope);
  if (!isStorageTypeOrBucketName(bucket)) throw s3Errors.noSuchBucket(bucket);
  const keyField = fields.get('key');
  if (keyField === undefined)
    throw s3Errors.invalidArgument(
      "Bucket POST must contain a field named 'key'. If it is specified, please check the order of the fields.",
    );
  const key = keyField.replaceAll(FILENAME_VARIABLE, form.filename);
  fields.set('key', key);
  const range = checkPostPolicy(policy, fields, bucket, Date.now());
  assertValidKey(key);
  const headers = objectHeadersOf(fields);
  if (fields.has('tagging')) throw s3Errors.notImplemented('The tagging field');
  assertSupportedWrite({ headers });
  const ref = await ctx.access.ref(request.principal, bucket, key, 'object:write');
  const attributes = s3AttributesOf({ headers }, await objectAclOfWrite(ctx, request.principal, headers, bucket, key));
  const computed: { md5?: string } = {};
  const info = await abortOnDisconnect(ctx, request, reply, (signal) =>
    ctx.objects.put(ref, Readable.from(measured(form.file, range, computed)), {
      contentType: contentTypeOf({ headers }),
      contentLength: undefined,
      signal,
      condition: undefined,
      expectedSha256: undefined,
      attributes: () => withMd5Etag(attributes, computed.md5 ?? ''),
    }),
  );
  ctx.metrics.bytesWritten.inc(info.size);
  await form.finished;
  const etag = md5Etag(info);
  return answer(reply, fields, { bucket, key, etag, location: locationOf(ctx, request, key) });
}

/**
 * Who signed the form: the policy's signature checked with the API key's secret, SigV4 (the
 * signing key of the x-amz-credential scope, hex HMAC-SHA256 of the base64 policy) or SigV2 (base64
 * HMAC-SHA1). A form without a policy and a signature is anonymous, and refused.
 */
async function authenticateForm(ctx: AppContext, fields: ReadonlyMap<string, string>) {
  const policy = fields.get('policy');
  const v4Signature = fields.get('x-amz-signature');
  const v2Signature = fields.get('signature');
  if (!policy || (!v4Signature && !v2Signature))
    throw s3Errors.accessDenied('Anonymous access is not allowed: a POST form needs a policy and its signature (docs/s3.md)');
  if (v4Signature) {
    const credential = fields.get('x-amz-credential') ?? '';
    const amzDate = fields.get('x-amz-date') ?? '';
    if (fields.get('x-amz-algorithm') !== ALGORITHM) throw s3Errors.invalidArgument(`x-amz-algorithm must be ${ALGORITHM}`);
    if (!/^\d{8}T\d{6}Z$/.test(amzDate)) throw s3Errors.invalidArgument('x-amz-date must be yyyymmddThhmmssZ');
    const scope = parseCredential(credential);
    assertScope({ ...scope, amzDate, presigned: false }, ctx.config.s3ApiRegion);
    const key = await openApiKey(ctx, scope.accessKeyId);
    const expected = createHmac('sha256', signingKey(key.secret, scope)).update(policy, 'utf8').digest('hex');
    if (!equalHex(expected, v4Signature)) throw s3Errors.signatureMismatch();
    return { tenant: key.tenant, keyScope: key.scope, policy: parsePostPolicy(policy) };
  }
  const key = await openApiKey(ctx, fields.get('awsaccesskeyid') ?? '');
  if (!equalSignature(signV2(key.secret, policy), v2Signature ?? '')) throw s3Errors.signatureMismatch();
  return { tenant: key.tenant, keyScope: key.scope, policy: parsePostPolicy(policy) };
}

/** The fields a PutObject would send as headers: content-*, x-amz-* (but the signature's), acl as x-amz-acl. */
function objectHeadersOf(fields: ReadonlyMap<string, string>): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of fields) {
    if (AUTH_FIELDS.has(name)) continue;
    // Header values reach s3AttributesOf as latin1 of their UTF-8 bytes; form fields come decoded.
    if (OBJECT_FIELDS.has(name) || name.startsWith('x-amz-')) headers[name] = Buffer.from(value, 'utf8').toString('latin1');
  }
  const acl = fields.get('acl');
  if (acl !== undefined) headers['x-amz-acl'] = acl;
  return headers;
}

/** The file's bytes, counted against the policy's content-length-range and hashed for the ETag. */
async function* measured(file: AsyncIterable<Buffer>, range: SizeRange | undefined, computed: { md5?: string }): AsyncGenerator<Buffer> {
  const md5 = createHash('md5');
  let size = 0;
  const chunks = file[Symbol.asyncIterator]();
  for (;;) {
    // The parser errors the file when the body ends before the form's closing boundary.
    const next = await chunks.next().catch(() => {
      throw malformedPostRequest();
    });
    if (next.done) break;
    const chunk: Buffer = next.value;
    size += chunk.length;
    if (range && size > range.max) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
    md5.update(chunk);
    yield chunk;
  }
  if (range && size < range.min) throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size');
  computed.md5 = md5.digest('hex');
}

/** The object's URL, under the path the form was posted to (`/s3/BUCKET`, or `/BUCKET` on the S3 port). */
function locationOf(ctx: AppContext, request: FastifyRequest, key: string): string {
  const bucketPath = (signedUrlOf(request.raw).split('?')[0] ?? '').replace(/\/$/, '');
  return `${publicOrigin(ctx.config, request)}${bucketPath}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

interface Stored {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly location: string;
}

/** success_action_redirect (303 with bucket, key and etag in its query), else success_action_status. */
function answer(reply: FastifyReply, fields: ReadonlyMap<string, string>, stored: Stored) {
  reply.header('etag', stored.etag).header('location', stored.location);
  const redirect = redirectUrl(fields.get('success_action_redirect') ?? fields.get('redirect'));
  if (redirect) {
    redirect.searchParams.set('bucket', stored.bucket);
    redirect.searchParams.set('key', stored.key);
    redirect.searchParams.set('etag', stored.etag);
    return reply.code(303).header('location', redirect.href).send();
  }
  const status = fields.get('success_action_status');
  if (status === '201')
    return reply
      .code(201)
      .type('application/xml')
      .send(xmlDocument('PostResponse', { Location: stored.location, Bucket: stored.bucket, Key: stored.key, ETag: stored.etag }));
  return reply.code(status === '200' ? 200 : 204).send();
}

/** An http(s) URL to redirect to; S3 ignores one it cannot use and answers by status. */
function redirectUrl(value: string | undefined): URL | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}
