import type { FastifyInstance } from 'fastify';
import { API_BASE_PATH, BUCKETS_PATH, hasControlCharacters } from 'stowage-client/protocol';
import { fail } from '../../errors.js';
import { requireOwnRights, requireUser } from '../../storage/access.js';
import type { Bucket, Grant, LifecycleRule } from '../../storage/bucket-model.js';
import { assertAllowed } from '../../storage/bucket-service.js';
import type { AppContext } from '../context.js';
import { singleQueryValue } from '../query-params.js';
import {
  infoOf,
  objectOf,
  parseExpiryDays,
  parseGrant,
  parseGrantee,
  parsePermission,
  parsePrefix,
  parsePublicAccessBlock,
  parseQuota,
  parseRetentionDays,
  summaryOf,
} from './bucket-views.js';

type NameRequest = { Params: { name: string }; Body: unknown };

const BASE = `${API_BASE_PATH}${BUCKETS_PATH}`;
/** The lifecycle rule a default expiry is kept as (S3 clients see it as a rule of this id). */
const DEFAULT_EXPIRY_ID = 'stowage-default-expiry';
const MAX_PAGE = 1000;

/**
 * Named buckets on storage API v1: `GET /buckets` (owned and shared), `POST /buckets`,
 * `GET|PATCH|DELETE /buckets/{name}`, `POST /buckets/{name}/share|unshare`. Every change is judged by
 * the one authorization decision, in the transaction that makes it (BucketService).
 */
export function registerBucketRoutes(app: FastifyInstance, ctx: AppContext): void {
  /** A bucket's info with the bytes of its noncurrent versions, counted now. */
  const fullInfo = async (bucket: Bucket) => infoOf(bucket, (await ctx.retention.retained(bucket.owner, bucket.name)).bytes);
  app.get<{ Querystring: Record<string, string | string[] | undefined> }>(BASE, async (request) => {
    const user = requireUser(request.principal);
    const after = singleQueryValue(request.query.after, 'after') || undefined;
    if (after !== undefined && hasControlCharacters(after)) throw fail('InvalidArgument', '"after" is a bucket name');
    const limit = parseLimit(singleQueryValue(request.query.limit, 'limit'));
    const page = await ctx.buckets.list(user, { after, limit });
    return { buckets: page.buckets.map((bucket) => summaryOf(bucket, user)), next: page.next ?? null };
  });

  app.post<{ Body: unknown }>(BASE, async (request, reply) => {
    const user = requireOwnRights(request.principal, 'Creating a bucket');
    const body = objectOf(request.body, 'The body');
    if (typeof body.name !== 'string') throw fail('InvalidRequestBody', '"name" must be the bucket\'s name');
    const grants = body.grants === undefined ? [] : arrayOf(body.grants, '"grants"').map((grant) => parseGrant(grant));
    const expiryDays = body.expiryDays === undefined ? null : parseExpiryDays(body.expiryDays);
    const retentionDays = body.retentionDays === undefined ? null : parseRetentionDays(body.retentionDays);
    const bucket = await ctx.buckets.create(user, body.name, {
      quotaBytes: body.quotaBytes === undefined ? null : parseQuota(body.quotaBytes),
      settings: {
        grants: dedupe(grants),
        policy: null,
        publicAccessBlock: null,
        lifecycle: expiryRules([], expiryDays),
        ...(retentionDays === null ? {} : { retentionDays }),
      },
    });
    return reply
      .code(201)
      .header('location', `${BASE}/${encodeURIComponent(bucket.name)}`)
      .send(await fullInfo(bucket));
  });

  app.get<NameRequest>(`${BASE}/:name`, async (request) => {
    const bucket = await ctx.buckets.require(request.params.name);
    assertAllowed(request.principal, 'bucket:read-acl', bucket);
    const info = await fullInfo(bucket);
    // The policy is the owner's to read, as S3's GetBucketPolicy (it may name other users).
    const isOwner = request.principal.kind === 'user' && request.principal.id === bucket.owner;
    return isOwner ? info : { ...info, policy: null };
  });

  app.patch<NameRequest>(`${BASE}/:name`, async (request) => {
    const body = objectOf(request.body, 'The body');
    const quota = body.quotaBytes === undefined ? undefined : parseQuota(body.quotaBytes);
    const expiryDays = body.expiryDays === undefined ? undefined : parseExpiryDays(body.expiryDays);
    const block = body.publicAccessBlock === undefined ? undefined : parsePublicAccessBlock(body.publicAccessBlock);
    const retentionDays = body.retentionDays === undefined ? undefined : parseRetentionDays(body.retentionDays);
    const bucket = await ctx.buckets.change(request.principal, request.params.name, 'bucket:configure', (current) => ({
      quotaBytes: quota,
      settings: {
        ...current.settings,
        publicAccessBlock: block === undefined ? current.settings.publicAccessBlock : block,
        lifecycle: expiryDays === undefined ? current.settings.lifecycle : expiryRules(current.settings.lifecycle, expiryDays),
        retentionDays: retentionDays === undefined ? current.settings.retentionDays : retentionDays,
      },
    }));
    return fullInfo(bucket);
  });

  app.delete<NameRequest>(`${BASE}/:name`, async (request, reply) => {
    await ctx.buckets.remove(request.principal, request.params.name);
    return reply.code(204).send();
  });

  app.post<NameRequest>(`${BASE}/:name/share`, async (request) => {
    const grant = parseGrant(request.body);
    const bucket = await ctx.buckets.change(request.principal, request.params.name, 'bucket:write-acl', (current) => ({
      settings: { ...current.settings, grants: dedupe([...current.settings.grants, grant]) },
    }));
    return fullInfo(bucket);
  });

  app.post<NameRequest>(`${BASE}/:name/unshare`, async (request) => {
    const body = objectOf(request.body, 'The body');
    const grantee = JSON.stringify(parseGrantee(body.grantee));
    const permission = body.permission === undefined ? undefined : parsePermission(body.permission);
    const prefix = body.prefix === undefined ? undefined : parsePrefix(body.prefix);
    const matches = (grant: Grant) =>
      JSON.stringify(grant.grantee) === grantee &&
      (permission === undefined || grant.permission === permission) &&
      (prefix === undefined || grant.prefix === prefix);
    const bucket = await ctx.buckets.change(request.principal, request.params.name, 'bucket:write-acl', (current) => ({
      settings: { ...current.settings, grants: current.settings.grants.filter((grant) => !matches(grant)) },
    }));
    return fullInfo(bucket);
  });
}

/** The rules with the default expiry (prefix '') set to `days`, or removed for null. */
function expiryRules(rules: readonly LifecycleRule[], days: number | null): LifecycleRule[] {
  const others = rules.filter((rule) => rule.id !== DEFAULT_EXPIRY_ID);
  // The rule is storage API v1's own, by its ID. Actions an S3 client gave it besides stay while it
  // is still for every key and enabled (an S3 Expiration is Days or ExpiredObjectDeleteMarker, so
  // days replace the latter); changed otherwise, it is v1's again, whole.
  const found = rules.find((rule) => rule.id === DEFAULT_EXPIRY_ID);
  const own = found?.prefix === '' && found.enabled ? found : undefined;
  const { expiredMarkers: _replaced, ...besides } = own ?? {};
  if (days !== null) return [...others, { ...besides, id: DEFAULT_EXPIRY_ID, prefix: '', enabled: true, days }];
  const acts = own && (own.noncurrentDays !== undefined || own.abortIncompleteDays !== undefined || own.expiredMarkers !== undefined);
  return own && acts ? [...others, { ...own, days: null }] : others;
}

/** Grants without repeats: sharing the same thing twice keeps one grant. */
function dedupe(grants: readonly Grant[]): Grant[] {
  const seen = new Map(grants.map((grant) => [JSON.stringify([grant.grantee, grant.permission, grant.prefix]), grant]));
  return [...seen.values()];
}

function arrayOf(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw fail('InvalidRequestBody', `${what} must be a JSON array`);
  return value;
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return MAX_PAGE;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw fail('InvalidArgument', `limit must be an integer from 1 to ${MAX_PAGE}`);
  return limit;
}
