import type { FastifyReply, FastifyRequest } from 'fastify';
import { isStorageType, STORAGE_TYPES } from 'stowage-client/protocol';
import type { AppContext } from '../http/context.js';
import { requireOwnRights } from '../storage/access.js';
import { type Bucket, EMPTY_BUCKET_SETTINGS, type Principal } from '../storage/bucket-model.js';
import { S3Error, s3Errors } from './errors.js';
import { grantsFromHeaders } from './grant-headers.js';
import { single } from './header-value.js';
import { listAllMyBucketsBody, parseListBucketsQuery } from './list-buckets.js';
import { xmlRoot } from './xml.js';

/** The built-in buckets exist for every user from the start: no creation date to tell. */
const BUILT_IN_CREATED = new Date(0);
/** x-amz-object-ownership values: ACLs are always in force here, whichever a client asks for. */
const OBJECT_OWNERSHIP = new Set(['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter']);

/**
 * The user a request on the service or a bucket's creation comes from. An unsigned request is
 * refused as S3 refuses it, AccessDenied, saying what to send (an API key's signature: storage API
 * v1's Bearer token means nothing to an S3 client).
 */
export function requireSigned(principal: Principal, what: string): string {
  if (principal.kind !== 'user') throw s3Errors.accessDenied(`${what} needs a signed request: sign it with an API key`);
  return principal.id;
}

/** S3's <Owner> of a bucket or object: its owner's user id, which is also its canonical id. */
export function ownerXml(owner: string): { ID: string; DisplayName: string } {
  return { ID: owner, DisplayName: owner };
}

/**
 * ListBuckets: the caller's built-in buckets (data, tmp, result) and the named buckets they own
 * or were granted something in, in name order, paged by max-buckets and continuation-token. With a
 * prefix, a page holds max-buckets names with that prefix (whatever lies between them in the
 * caller's list), and a token only when more with it follow.
 */
export async function listBuckets(ctx: AppContext, user: string, query: URLSearchParams): Promise<Record<string, unknown>> {
  const { maxBuckets, after, prefix } = parseListBucketsQuery(query);
  const matches = (name: string) => (after === undefined || name > after) && (prefix === undefined || name.startsWith(prefix));
  // One more than a page: whether it is there says whether another page follows.
  const named = await namedBucketsAfter(ctx, user, { after, prefix, count: maxBuckets + 1 });
  const all = [...STORAGE_TYPES.filter(matches).map((name) => ({ name, createdAt: BUILT_IN_CREATED })), ...named].sort((a, b) =>
    a.name < b.name ? -1 : 1,
  );
  return listAllMyBucketsBody({
    owner: user,
    buckets: all.slice(0, maxBuckets),
    region: ctx.config.s3ApiRegion,
    prefix,
    truncated: all.length > maxBuckets,
  });
}

/**
 * The first `count` named buckets of `user` after `after` whose names start with `prefix`, in
 * name order: read from the first name the prefix allows, page after page of the user's list,
 * until there are enough or the names are past the prefix.
 */
async function namedBucketsAfter(
  ctx: AppContext,
  user: string,
  { after, prefix, count }: { after: string | undefined; prefix: string | undefined; count: number },
): Promise<Bucket[]> {
  if (prefix !== undefined && !BUCKET_NAME_PREFIX.test(prefix)) return [];
  const start = prefix === undefined ? undefined : justBefore(prefix);
  let cursor = start !== undefined && (after === undefined || after < start) ? start : after;
  const found: Bucket[] = [];
  for (;;) {
    const page = await ctx.buckets.list(user, { after: cursor, limit: count });
    for (const bucket of page.buckets) {
      if (prefix === undefined || bucket.name.startsWith(prefix)) found.push(bucket);
      else if (bucket.name > prefix) return found;
      if (found.length === count) return found;
    }
    if (page.next === undefined) return found;
    cursor = page.next;
  }
}

/** What a prefix of a bucket name is made of: the name alphabet, lower-case letters, digits, dots and hyphens. */
const BUCKET_NAME_PREFIX = /^[a-z0-9.-]*$/;

/**
 * A string every bucket name starting with `prefix` sorts after, and every other name sorting
 * before `prefix` sorts before (or at): the prefix with its last character one less, then `~`,
 * which sorts after the whole name alphabet. Undefined for an empty prefix: from the start.
 */
function justBefore(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  return `${prefix.slice(0, -1)}${String.fromCharCode(prefix.charCodeAt(prefix.length - 1) - 1)}~`;
}

/**
 * CreateBucket: a named bucket owned by the caller, with the grants of its x-amz-acl or
 * x-amz-grant-* headers. A location constraint must name this server's region. The built-in
 * buckets exist already and are the caller's: creating one answers 200 as before.
 */
export async function createBucket(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
  readBody: () => Promise<string>,
) {
  requireSigned(request.principal, 'CreateBucket');
  const user = requireOwnRights(request.principal, 'CreateBucket');
  assertLocationConstraint(await readBody(), ctx.config.s3ApiRegion);
  if (single(request.headers['x-amz-bucket-object-lock-enabled']) === 'true') throw s3Errors.notImplemented('Object Lock');
  const ownership = single(request.headers['x-amz-object-ownership']);
  if (ownership !== undefined && !OBJECT_OWNERSHIP.has(ownership)) throw s3Errors.invalidArgument('x-amz-object-ownership is not valid');
  if (isStorageType(name)) return reply.code(200).header('location', `/${name}`).send();
  const grants = grantsFromHeaders(request.headers, '', user) ?? [];
  await ctx.buckets.create(user, name, { settings: { ...EMPTY_BUCKET_SETTINGS, grants } });
  return reply.code(200).header('location', `/${name}`).send();
}

/** DeleteBucket: an empty named bucket, by its owner. The built-in buckets cannot be deleted. */
export async function deleteBucket(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, name: string) {
  if (isStorageType(name))
    throw new S3Error('InvalidRequest', `${name} is one of every user's built-in buckets (data, tmp, result): it cannot be deleted`);
  await ctx.buckets.remove(request.principal, name);
  return reply.code(204).send();
}

/** A CreateBucketConfiguration's LocationConstraint must be this server's region (empty: us-east-1). */
function assertLocationConstraint(body: string, region: string): void {
  if (body.trim() === '') return;
  const root = xmlRoot(body, 'CreateBucketConfiguration') as Record<string, unknown> | string | undefined;
  if (root === undefined) throw s3Errors.malformedXml();
  const constraint = typeof root === 'object' && root !== null ? root.LocationConstraint : undefined;
  const named = typeof constraint === 'string' ? constraint : '';
  if (named === region || (named === '' && region === 'us-east-1')) return;
  throw new S3Error(
    'IllegalLocationConstraintException',
    `The ${named || 'us-east-1'} location constraint is incompatible with this server's region, ${region}`,
  );
}
