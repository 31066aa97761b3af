import type { BucketGrant, BucketInfo, BucketSummary, GrantGrantee } from 'stowage-client/protocol';
import { isPlainText, MAX_USER_ID_BYTES } from '../../auth/user-id.js';
import { fail } from '../../errors.js';
import { type Bucket, type Grant, type Grantee, PERMISSIONS, type Permission, type PublicAccessBlock } from '../../storage/bucket-model.js';
import { validateKey } from '../../storage/object-ref.js';
import { isPublicBucket } from '../../storage/public-buckets.js';
import { retentionRulesOf } from '../../storage/retention.js';

/** The JSON of storage API v1 for the domain's buckets and grants, both ways. */

export function summaryOf(bucket: Bucket, user: string): BucketSummary {
  return {
    name: bucket.name,
    owner: bucket.owner,
    createdAt: bucket.createdAt.toISOString(),
    access: bucket.owner === user ? 'owner' : 'shared',
  };
}

export function infoOf(bucket: Bucket, retainedBytes = 0): BucketInfo {
  const { settings } = bucket;
  return {
    name: bucket.name,
    owner: bucket.owner,
    createdAt: bucket.createdAt.toISOString(),
    quotaBytes: bucket.quotaBytes,
    bytes: bucket.bytes,
    objects: bucket.objects,
    public: isPublicBucket(settings),
    grants: settings.grants.map(grantView),
    publicAccessBlock: settings.publicAccessBlock,
    expiry: settings.lifecycle.flatMap(({ id, prefix, enabled, days }) => (days === null ? [] : [{ id, prefix, enabled, days }])),
    policy: settings.policy?.text ?? null,
    retentionDays: settings.retentionDays ?? null,
    retentionRules: retentionRulesOf(settings.lifecycle),
    retainedBytes,
  };
}

/** `retentionDays`: 0 to 36500 whole days, or null for the server default. */
export function parseRetentionDays(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 36500)
    throw fail('InvalidRequestBody', '"retentionDays" must be a whole number of days from 0 to 36500, or null for the server default');
  return value;
}

function grantView(grant: Grant): BucketGrant {
  const grantee: GrantGrantee = grant.grantee.kind === 'user' ? { user: grant.grantee.id } : { group: grant.grantee.kind };
  return { grantee, permission: grant.permission, prefix: grant.prefix };
}

/** A grant from its JSON; InvalidRequestBody naming what is wrong. */
export function parseGrant(value: unknown, what = 'the grant'): Grant {
  const body = objectOf(value, what);
  return { grantee: parseGrantee(body.grantee), permission: parsePermission(body.permission), prefix: parsePrefix(body.prefix) };
}

export function parseGrantee(value: unknown): Grantee {
  const body = objectOf(value, '"grantee"');
  if (typeof body.user === 'string' && body.group === undefined) {
    if (!isPlainText(body.user, MAX_USER_ID_BYTES))
      throw invalid(`"grantee.user" must be a user id: 1-${MAX_USER_ID_BYTES} bytes of Unicode without control characters`);
    return { kind: 'user', id: body.user };
  }
  if ((body.group === 'authenticated' || body.group === 'everyone') && body.user === undefined) return { kind: body.group };
  throw invalid('"grantee" must be {"user": "<id>"} or {"group": "authenticated" | "everyone"}');
}

export function parsePermission(value: unknown): Permission {
  if (typeof value !== 'string' || !(PERMISSIONS as readonly string[]).includes(value))
    throw invalid(`"permission" must be one of ${PERMISSIONS.join(', ')}`);
  return value as Permission;
}

export function parsePrefix(value: unknown): string {
  if (value === undefined || value === '') return '';
  if (typeof value !== 'string') throw invalid('"prefix" must be a string');
  return validateKey(value);
}

export function parsePublicAccessBlock(value: unknown): PublicAccessBlock | null {
  if (value === null) return null;
  const body = objectOf(value, '"publicAccessBlock"');
  const flag = (name: keyof PublicAccessBlock) => {
    const flagValue = body[name] ?? false;
    if (typeof flagValue !== 'boolean') throw invalid(`"publicAccessBlock.${name}" must be true or false`);
    return flagValue;
  };
  return {
    blockPublicAcls: flag('blockPublicAcls'),
    ignorePublicAcls: flag('ignorePublicAcls'),
    blockPublicPolicy: flag('blockPublicPolicy'),
    restrictPublicBuckets: flag('restrictPublicBuckets'),
  };
}

/** A byte quota, or null for none. */
export function parseQuota(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw invalid('"quotaBytes" must be a whole number of bytes, or null');
  return value;
}

/** Days of a default expiry, or null for none. */
export function parseExpiryDays(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 36_500)
    throw invalid('"expiryDays" must be a whole number of days from 1 to 36500, or null');
  return value;
}

export function objectOf(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function invalid(detail: string) {
  return fail('InvalidRequestBody', detail);
}
