import type { FastifyReply, FastifyRequest } from 'fastify';
import { isStorageType, STORAGE_TYPES } from 'stowage-client/protocol';
import type { AppContext } from '../http/context.js';
import { requireUser } from '../storage/access.js';
import { EMPTY_BUCKET_SETTINGS } from '../storage/bucket-model.js';
import { S3Error, s3Errors } from './errors.js';
import { grantsFromHeaders } from './grant-headers.js';
import { single } from './header-value.js';
import { listAllMyBucketsBody, parseListBucketsQuery } from './list-buckets.js';
import { xmlRoot } from './xml.js';

/** The built-in buckets exist for every user from the start: no creation date to tell. */
const BUILT_IN_CREATED = new Date(0);
/** x-amz-object-ownership values: ACLs are always in force here, whichever a client asks for. */
const OBJECT_OWNERSHIP = new Set(['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter']);

/** S3's <Owner> of a bucket or object: its owner's user id, which is also its canonical id. */
export function ownerXml(owner: string): { ID: string; DisplayName: string } {
  return { ID: owner, DisplayName: owner };
}

/**
 * ListBuckets: the caller's built-in buckets (data, tmp, result) and the named buckets they own
 * or were granted something in, in name order, paged by max-buckets and continuation-token.
 */
export async function listBuckets(ctx: AppContext, user: string, query: URLSearchParams): Promise<Record<string, unknown>> {
  const { maxBuckets, after, prefix } = parseListBucketsQuery(query);
  const page = await ctx.buckets.list(user, { after, limit: maxBuckets });
  const lastNamed = page.next === undefined ? undefined : page.buckets.at(-1)?.name;
  const builtIns = STORAGE_TYPES.filter((name) => (after === undefined || name > after) && (lastNamed === undefined || name < lastNamed));
  const all = [...builtIns.map((name) => ({ name, createdAt: BUILT_IN_CREATED })), ...page.buckets]
    .filter((bucket) => prefix === undefined || bucket.name.startsWith(prefix))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const shown = all.slice(0, maxBuckets);
  return listAllMyBucketsBody({
    owner: user,
    buckets: shown,
    region: ctx.config.s3ApiRegion,
    prefix,
    truncated: page.next !== undefined || all.length > maxBuckets,
  });
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
  const user = requireUser(request.principal);
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
