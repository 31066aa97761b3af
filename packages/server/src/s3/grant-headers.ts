import type { IncomingHttpHeaders } from 'node:http';
import { isPlainText, MAX_USER_ID_BYTES } from '../auth/user-id.js';
import type { Grant, Grantee, Permission } from '../storage/bucket-model.js';
import { S3Error, s3Errors } from './errors.js';

/**
 * The ACL a request's headers set (CreateBucket, PutObject, CopyObject, CreateMultipartUpload,
 * PutBucketAcl, PutObjectAcl): a canned ACL (`x-amz-acl`) or explicit `x-amz-grant-*` headers,
 * in the domain's grants.
 *
 * The owner's FULL_CONTROL is implicit: never stored, always there. The same holds for the bucket
 * owner on an object (objects belong to their bucket's owner), so `bucket-owner-read` and
 * `bucket-owner-full-control` grant nothing beyond `private`.
 */

export const ALL_USERS_URI = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS_URI = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
/** S3's log delivery group: Stowage has no server access logs to deliver. */
const LOG_DELIVERY_URI = 'http://acs.amazonaws.com/groups/s3/LogDelivery';

/** S3's bound on the grants of one ACL. */
export const MAX_GRANTS = 100;

const EVERYONE: Grantee = { kind: 'everyone' };
const AUTHENTICATED: Grantee = { kind: 'authenticated' };

/** What each canned ACL grants besides the implicit owner's FULL_CONTROL. */
const CANNED_ACLS: Record<string, readonly { grantee: Grantee; permission: Permission }[]> = {
  private: [],
  'public-read': [{ grantee: EVERYONE, permission: 'READ' }],
  'public-read-write': [
    { grantee: EVERYONE, permission: 'READ' },
    { grantee: EVERYONE, permission: 'WRITE' },
  ],
  'authenticated-read': [{ grantee: AUTHENTICATED, permission: 'READ' }],
  'bucket-owner-read': [],
  'bucket-owner-full-control': [],
};
/** Canned ACLs S3 has that grant to AWS services Stowage does not have. */
const SERVICE_CANNED_ACLS = new Set(['log-delivery-write', 'aws-exec-read']);

const GRANT_HEADERS: readonly [string, Permission][] = [
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
];

/**
 * The grants a request's ACL headers give, each covering `prefix` ('' for a bucket, the key for
 * an object); undefined when the request has none of these headers (the caller keeps its
 * default). Grants to `owner` (the bucket's owner), implicit anyway, are left out, and repeats
 * kept once. Refused as S3 refuses: a canned ACL with grant headers (InvalidRequest), an unknown
 * canned ACL or a malformed grant (InvalidArgument), a grant by e-mail address
 * (UnresolvableGrantByEmailAddress); canned ACLs and groups for AWS services are NotImplemented.
 */
export function grantsFromHeaders(headers: IncomingHttpHeaders, prefix: string, owner?: string): Grant[] | undefined {
  const canned = headerText(headers['x-amz-acl']);
  const explicit = GRANT_HEADERS.flatMap(([name, permission]) => {
    const value = headerText(headers[name]);
    return value === undefined ? [] : [{ name, permission, value }];
  });
  if (canned === undefined && explicit.length === 0) return undefined;
  if (canned !== undefined && explicit.length > 0)
    throw s3Errors.invalidRequest('Specifying both Canned ACLs and Header Grants is not allowed');
  const grants =
    canned !== undefined
      ? cannedGrants(canned.trim())
      : explicit.flatMap(({ name, permission, value }) => parseGrantees(name, value).map((grantee) => ({ grantee, permission })));
  const result = uniqueGrants(
    grants.map(({ grantee, permission }) => ({ grantee, permission, prefix })),
    owner,
  );
  if (result.length > MAX_GRANTS)
    throw s3Errors.invalidArgument(`An ACL has at most ${MAX_GRANTS} grants; these headers give ${result.length}`);
  return result;
}

/** `grants` without repeats and without grants to `owner` (implicit), in their order. */
export function uniqueGrants(grants: readonly Grant[], owner?: string): Grant[] {
  const seen = new Set<string>();
  return grants.filter((grant) => {
    if (owner !== undefined && grant.grantee.kind === 'user' && grant.grantee.id === owner) return false;
    const key = JSON.stringify([grant.grantee, grant.permission, grant.prefix]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A group grantee by its S3 URI; undefined for one S3 does not have. */
export function groupGrantee(uri: string): Grantee | undefined {
  if (uri === ALL_USERS_URI) return EVERYONE;
  if (uri === AUTHENTICATED_USERS_URI) return AUTHENTICATED;
  if (uri === LOG_DELIVERY_URI) throw s3Errors.notImplemented('A grant to the LogDelivery group (server access logs)');
  return undefined;
}

/** Whether `id` can be a user id (auth/user-id.ts's rule), so it may be stored in a grant. */
export function isUserId(id: string): boolean {
  return isPlainText(id, MAX_USER_ID_BYTES);
}

function cannedGrants(acl: string): { grantee: Grantee; permission: Permission }[] {
  if (SERVICE_CANNED_ACLS.has(acl)) throw s3Errors.notImplemented(`x-amz-acl: ${acl}`);
  const grants = Object.hasOwn(CANNED_ACLS, acl) ? CANNED_ACLS[acl] : undefined;
  if (grants === undefined)
    throw new S3Error('InvalidArgument', `x-amz-acl: "${acl}" is not a canned ACL`, {}, { ArgumentName: 'x-amz-acl' });
  return [...grants];
}

/**
 * One `x-amz-grant-*` header: grantees separated by commas, each `id="…"`, `uri="…"` or
 * `emailAddress="…"` (quotes optional, as S3 takes them; a quoted value may hold commas).
 */
function parseGrantees(header: string, value: string): Grantee[] {
  const malformed = (why: string) => new S3Error('InvalidArgument', `${header}: ${why}`, {}, { ArgumentName: header });
  const grantees: Grantee[] = [];
  const item = /\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^",]*?))\s*(?:,|$)/y;
  let at = 0;
  while (at < value.length) {
    item.lastIndex = at;
    const match = item.exec(value);
    if (!match || match[0] === '') throw malformed('each grantee is id="…", uri="…" or emailAddress="…", separated by commas');
    at = item.lastIndex;
    const type = (match[1] ?? '').toLowerCase();
    const text = match[2] ?? match[3] ?? '';
    if (type === 'emailaddress')
      throw new S3Error('UnresolvableGrantByEmailAddress', `${header}: Stowage names users by id only (id="…"), not by e-mail address`);
    if (type === 'id') {
      if (!isUserId(text)) throw malformed(`"${text}" is not a user id`);
      grantees.push({ kind: 'user', id: text });
    } else if (type === 'uri') {
      const group = groupGrantee(text);
      if (group === undefined) throw malformed(`"${text}" is not a group URI (AllUsers or AuthenticatedUsers)`);
      grantees.push(group);
    } else throw malformed(`"${match[1]}" is not a grantee type (id, uri or emailAddress)`);
  }
  if (grantees.length === 0) throw malformed('names no grantee');
  return grantees;
}

/** A header's value; several of the same header count as one comma-separated list. */
function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}
