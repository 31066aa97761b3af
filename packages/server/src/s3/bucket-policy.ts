import { type BucketPolicy, POLICY_ACTIONS, type PolicyAction, type PolicyStatement } from '../storage/bucket-model.js';
import { isPublicPolicy } from '../storage/public-buckets.js';
import { s3Errors } from './errors.js';
import { isUserId } from './grant-headers.js';

/**
 * Bucket policies (PutBucketPolicy): the part of S3's policy language that Stowage enforces, read
 * into the domain's statements. Anything else is refused with MalformedPolicy and a message that
 * says what is not taken, never stored and silently ignored: a policy that Stowage enforced
 * differently from what its text says would give away what its owner meant to keep.
 */

/** S3's bound on a bucket policy's size. */
export const MAX_POLICY_BYTES = 20 * 1024;
export const POLICY_VERSIONS = ['2012-10-17', '2008-10-17'] as const;

const ARN_PREFIX = 'arn:aws:s3:::';
const IAM_ROOT = /^arn:aws:iam::(.+):root$/;
const OBJECT_ACTIONS: readonly PolicyAction[] = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'];
/** Parts of S3's language with a meaning Stowage does not enforce. */
const UNSUPPORTED_FIELDS: Record<string, string> = {
  NotPrincipal: 'NotPrincipal is not supported; name the principals a statement applies to in Principal',
  NotAction: 'NotAction is not supported; list the actions in Action',
  NotResource: 'NotResource is not supported; list the resources in Resource',
  Condition: 'Condition is not supported: a statement applies whatever the request',
};

type Resource = PolicyStatement['resources'][number];

/**
 * A PutBucketPolicy body for `bucket` as the domain's policy (its text kept as sent, which
 * GetBucketPolicy answers). MalformedPolicy when it is over 20 KiB, not JSON, or not a policy of:
 * Version 2012-10-17 or 2008-10-17 (or none); an optional Id; Statement, one or a list, each with
 * an optional unique Sid, Effect Allow or Deny; Principal `"*"` or `{"AWS": …}` /
 * `{"CanonicalUser": …}` naming `"*"`, user ids or `arn:aws:iam::ID:root`; Action from
 * POLICY_ACTIONS (any case; `"*"` is `s3:*`); Resource `arn:aws:s3:::BUCKET` (the bucket, for
 * s3:ListBucket), `arn:aws:s3:::BUCKET/*`, `arn:aws:s3:::BUCKET/PREFIX*`, or
 * `arn:aws:s3:::BUCKET/KEY`, that one key only (`a.txt`, not `a.txt.bak`).
 */
export function parseBucketPolicy(text: string, bucket: string): BucketPolicy {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_POLICY_BYTES)
    throw s3Errors.malformedPolicy(`Policy exceeds the maximum allowed document size: ${bytes} bytes, over ${MAX_POLICY_BYTES}.`);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    document = undefined;
  }
  if (!isObject(document)) throw s3Errors.malformedPolicy("Policies must be valid JSON and the first byte must be '{'");
  for (const field of Object.keys(document)) if (!['Version', 'Id', 'Statement'].includes(field)) throw unknownField(field);
  const version = document.Version;
  if (version !== undefined && !(POLICY_VERSIONS as readonly unknown[]).includes(version))
    throw s3Errors.malformedPolicy(`The policy's Version is ${POLICY_VERSIONS.join(' or ')}`);
  if (document.Id !== undefined && typeof document.Id !== 'string') throw s3Errors.malformedPolicy('The policy Id is a string');
  if (document.Statement === undefined) throw missingField('Statement');
  const statements = (Array.isArray(document.Statement) ? document.Statement : [document.Statement]).map((statement) =>
    parseStatement(statement, bucket),
  );
  if (statements.length === 0) throw missingField('Statement');
  const sids = statements.flatMap((statement) => (statement.sid === undefined ? [] : [statement.sid]));
  if (new Set(sids).size !== sids.length) throw s3Errors.malformedPolicy('Statement IDs (SID) in a single policy must be unique.');
  return { text, statements };
}

/** GetBucketPolicyStatus's PolicyStatus (for sendXml). */
export function policyStatusBody(policy: BucketPolicy): { IsPublic: boolean } {
  return { IsPublic: isPublicPolicy(policy) };
}

function parseStatement(value: unknown, bucket: string): PolicyStatement {
  if (!isObject(value)) throw s3Errors.malformedPolicy('Each Statement is a JSON object');
  for (const field of Object.keys(value)) {
    const unsupported = Object.hasOwn(UNSUPPORTED_FIELDS, field) ? UNSUPPORTED_FIELDS[field] : undefined;
    if (unsupported !== undefined) throw s3Errors.malformedPolicy(unsupported);
    if (!['Sid', 'Effect', 'Principal', 'Action', 'Resource'].includes(field)) throw unknownField(field);
  }
  if (value.Sid !== undefined && typeof value.Sid !== 'string') throw s3Errors.malformedPolicy('A Sid is a string');
  if (value.Effect === undefined) throw missingField('Effect');
  if (value.Effect !== 'Allow' && value.Effect !== 'Deny') throw s3Errors.malformedPolicy(`Invalid effect: ${String(value.Effect)}`);
  if (value.Principal === undefined) throw missingField('Principal');
  if (value.Action === undefined) throw missingField('Action');
  if (value.Resource === undefined) throw missingField('Resource');
  const actions = unique(stringsOf(value.Action, 'Action').map(parseAction));
  const resources = uniqueResources(stringsOf(value.Resource, 'Resource').map((resource) => parseResource(resource, bucket)));
  for (const action of actions)
    if (!resources.some((resource) => appliesTo(action, resource)))
      throw s3Errors.malformedPolicy(`Action does not apply to any resource(s) in statement: ${action}`);
  return { sid: value.Sid, effect: value.Effect, principals: parsePrincipal(value.Principal), actions, resources };
}

function parsePrincipal(value: unknown): '*' | string[] {
  if (value === '*') return '*';
  const invalid = (why: string) => s3Errors.malformedPolicy(`Invalid principal in policy: ${why}`);
  if (!isObject(value)) throw invalid('a Principal is "*" or {"AWS": …}');
  const ids: string[] = [];
  let everyone = false;
  for (const [kind, names] of Object.entries(value)) {
    if (kind !== 'AWS' && kind !== 'CanonicalUser')
      throw invalid(`"${kind}" principals are not supported; Stowage's users are named by "AWS" or "CanonicalUser"`);
    for (const name of stringsOf(names, 'Principal')) {
      if (name === '*' && kind === 'AWS') {
        everyone = true;
        continue;
      }
      const id = kind === 'AWS' ? (IAM_ROOT.exec(name)?.[1] ?? name) : name;
      if (id.startsWith('arn:')) throw invalid(`${name}: Stowage has no IAM users or roles; name a user by its id or arn:aws:iam::ID:root`);
      if (id === '*' || !isUserId(id)) throw invalid(`"${name}" is not a user id`);
      ids.push(id);
    }
  }
  if (everyone) return '*';
  if (ids.length === 0) throw invalid('the Principal names no one');
  return unique(ids);
}

function parseAction(name: string): PolicyAction {
  const lower = name.toLowerCase();
  if (lower === '*') return 's3:*';
  const action = POLICY_ACTIONS.find((known) => known.toLowerCase() === lower);
  if (action === undefined)
    throw s3Errors.malformedPolicy(`Policy has invalid action: ${name} (Stowage's policies take ${POLICY_ACTIONS.join(', ')})`);
  return action;
}

function parseResource(arn: string, bucket: string): Resource {
  const invalid = (why: string) => s3Errors.malformedPolicy(`Policy has invalid resource: ${arn} (${why})`);
  if (!arn.startsWith(ARN_PREFIX)) throw invalid(`a resource is ${ARN_PREFIX}${bucket} or ${ARN_PREFIX}${bucket}/…`);
  const path = arn.slice(ARN_PREFIX.length);
  if (path === bucket) return { kind: 'bucket' };
  if (!path.startsWith(`${bucket}/`)) throw invalid(`a bucket's policy names only that bucket, ${bucket}, and its objects`);
  const key = path.slice(bucket.length + 1);
  const star = key.indexOf('*');
  if (key.includes('?') || (star !== -1 && star !== key.length - 1))
    throw invalid('the only wildcard supported is one * at the end, for every key under a prefix');
  return star === -1 ? { kind: 'object', key } : { kind: 'objects', prefix: key.slice(0, -1) };
}

/** Whether an action can act on a resource: object actions on objects, s3:ListBucket on the bucket. */
function appliesTo(action: PolicyAction, resource: Resource): boolean {
  if (action === 's3:*') return true;
  return OBJECT_ACTIONS.includes(action) ? resource.kind !== 'bucket' : resource.kind === 'bucket';
}

/** A field given as one string or a non-empty list of strings. */
function stringsOf(value: unknown, field: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((item) => typeof item === 'string'))
    throw s3Errors.malformedPolicy(`${field} is a string or a non-empty list of strings`);
  return list as string[];
}

function uniqueResources(resources: Resource[]): Resource[] {
  const seen = new Set<string>();
  return resources.filter((resource) => {
    const key = resource.kind === 'bucket' ? '' : resource.kind === 'objects' ? `/${resource.prefix}*` : `/${resource.key}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownField(field: string) {
  return s3Errors.malformedPolicy(`Unknown field ${field}`);
}

function missingField(field: string) {
  return s3Errors.malformedPolicy(`Missing required field ${field}`);
}
