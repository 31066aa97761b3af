import type {
  Action,
  BucketSettings,
  Grant,
  Grantee,
  KeyScope,
  Permission,
  PolicyAction,
  PolicyStatement,
  Principal,
} from './bucket-model.js';

/** What is asked: an action by a principal on a bucket, at a key (object actions) or a prefix (listing). */
export interface AccessRequest {
  readonly principal: Principal;
  readonly action: Action;
  /** The bucket's name: a named bucket's, or a storage type for a user's built-in bucket. */
  readonly bucket: string;
  readonly owner: string;
  readonly settings: BucketSettings;
  /** The object's key, or the listing's prefix; '' for the bucket itself. */
  readonly key: string;
  /** The object's own ACL (an object ACL), when the object was read to decide. */
  readonly objectGrants?: readonly Grant[] | undefined;
  /**
   * The action is done to every key under `key` at once (delete, copy or move of a prefix): a
   * statement that denies it for any key under the prefix refuses the whole of it.
   */
  readonly under?: boolean | undefined;
}

/**
 * The decision: allowed, or refused by a statement that denies (`explicit`), by the scope of the
 * API key the request was made with (`scope`), or by nothing allowing it (`implicit`; for an
 * anonymous caller the fronts ask for credentials). Only an implicit refusal may still be lifted
 * by an object's own ACL.
 */
export type Denial = 'explicit' | 'scope' | 'implicit';
export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly denial: Denial };

const ALLOW: Decision = { allowed: true };
const EXPLICIT: Decision = { allowed: false, denial: 'explicit' };
const IMPLICIT: Decision = { allowed: false, denial: 'implicit' };
const OUT_OF_SCOPE: Decision = { allowed: false, denial: 'scope' };

/** What each permission lets its grantee do, within the grant's prefix (docs/concepts.md). */
const PERMITS: Record<Permission, readonly Action[]> = {
  READ: ['object:read', 'bucket:list'],
  WRITE: ['object:write', 'object:delete'],
  READ_ACP: ['object:read-acl', 'bucket:read-acl'],
  WRITE_ACP: ['object:write-acl', 'bucket:write-acl'],
  FULL_CONTROL: [
    'object:read',
    'bucket:list',
    'object:write',
    'object:delete',
    'object:read-acl',
    'bucket:read-acl',
    'object:write-acl',
    'bucket:write-acl',
  ],
};

/** The bucket policy actions, and what each covers. */
const POLICY_COVERS: Record<PolicyAction, readonly Action[]> = {
  's3:GetObject': ['object:read'],
  's3:PutObject': ['object:write'],
  's3:DeleteObject': ['object:delete'],
  's3:ListBucket': ['bucket:list'],
  's3:*': ['object:read', 'object:write', 'object:delete', 'bucket:list'],
};

/** What a read-only key may do. */
const READS: ReadonlySet<Action> = new Set(['object:read', 'bucket:list', 'object:read-acl', 'bucket:read-acl']);

/** Actions on the bucket as a whole: a grant gives them only when it covers the whole bucket. */
const BUCKET_WIDE: ReadonlySet<Action> = new Set(['bucket:read-acl', 'bucket:write-acl']);
/** Actions no grant or policy gives: the owner's alone. */
const OWNER_ONLY: ReadonlySet<Action> = new Set(['bucket:configure', 'bucket:delete']);

/**
 * The one authorization decision of both APIs: may `principal` do `action` in a bucket, at `key`?
 * A pure function of the request and the bucket's settings, in this order:
 *
 * 1. a bucket policy statement that denies it wins over everything, the owner included, except
 *    for the owner's management of the bucket (so an owner can always fix a policy);
 * 2. the owner may do anything;
 * 3. otherwise a grant of the bucket, of a prefix of the key or of the object itself, or a policy
 *    statement, must allow it. Public grants (everyone, all authenticated users) count only when
 *    the public access block does not ignore them, and policy statements for everyone only when
 *    it does not restrict public buckets.
 *
 * Before all of that, a request made with a scoped API key must lie within the key's scope
 * (keyScopeAllows): outside it, nothing the user holds counts.
 *
 * Nothing granted, nothing allowed: tenant isolation is the default.
 */
export function authorize(request: AccessRequest): Decision {
  const { principal, action, owner, settings } = request;
  if (principal.kind === 'user' && principal.scope && !keyScopeAllows(principal.scope, request)) return OUT_OF_SCOPE;
  const isOwner = principal.kind === 'user' && principal.id === owner;
  if (isOwner && (OWNER_ONLY.has(action) || BUCKET_WIDE.has(action))) return ALLOW;
  const statements = settings.policy?.statements ?? [];
  if (statements.some((statement) => statement.effect === 'Deny' && statementMatches(statement, request))) return EXPLICIT;
  if (isOwner) return ALLOW;
  if (OWNER_ONLY.has(action)) return IMPLICIT;
  const block = settings.publicAccessBlock;
  const grants = [...settings.grants, ...(request.objectGrants ?? []).map((grant) => ({ ...grant, prefix: request.key }))];
  for (const grant of grants) {
    if (block?.ignorePublicAcls && isPublicGrantee(grant.grantee)) continue;
    if (grantApplies(grant, request)) return ALLOW;
  }
  for (const statement of statements) {
    if (statement.effect !== 'Allow') continue;
    if (block?.restrictPublicBuckets && statement.principals === '*') continue;
    if (statementMatches(statement, request)) return ALLOW;
  }
  return IMPLICIT;
}

/**
 * Whether a request lies within a scoped key's scope: a read-only key reads (objects, listings,
 * ACLs) and nothing else; a key of one bucket acts in that bucket only; a key of a prefix acts on
 * keys and listings under it only (so never on a bucket as a whole). No scoped key manages a
 * bucket or its sharing, whatever its scope.
 */
export function keyScopeAllows(scope: KeyScope, request: Pick<AccessRequest, 'action' | 'bucket' | 'key'>): boolean {
  if (OWNER_ONLY.has(request.action) || request.action === 'bucket:write-acl') return false;
  if (scope.readOnly && !READS.has(request.action)) return false;
  if (scope.bucket !== undefined && scope.bucket !== request.bucket) return false;
  return scope.prefix === undefined || request.key.startsWith(scope.prefix);
}

export function isPublicGrantee(grantee: Grantee): boolean {
  return grantee.kind === 'everyone' || grantee.kind === 'authenticated';
}

function grantApplies(grant: Grant, request: AccessRequest): boolean {
  if (!granteeMatches(grant.grantee, request.principal)) return false;
  if (!PERMITS[grant.permission].includes(request.action)) return false;
  if (BUCKET_WIDE.has(request.action)) return grant.prefix === '';
  return request.key.startsWith(grant.prefix);
}

function granteeMatches(grantee: Grantee, principal: Principal): boolean {
  switch (grantee.kind) {
    case 'everyone':
      return true;
    case 'authenticated':
      return principal.kind === 'user';
    case 'user':
      return principal.kind === 'user' && principal.id === grantee.id;
  }
}

function statementMatches(statement: PolicyStatement, request: AccessRequest): boolean {
  const { principal, action, key } = request;
  if (statement.principals !== '*' && !(principal.kind === 'user' && statement.principals.includes(principal.id))) return false;
  if (!statement.actions.some((named) => POLICY_COVERS[named].includes(action))) return false;
  // Over a prefix, an Allow must cover all of it, and a Deny of any part of it denies it all.
  const denyUnder = request.under === true && statement.effect === 'Deny';
  return statement.resources.some((resource) => {
    if (action === 'bucket:list') return resource.kind === 'bucket';
    if (resource.kind === 'object') return key === resource.key || (denyUnder && resource.key.startsWith(key));
    if (resource.kind !== 'objects') return false;
    return key.startsWith(resource.prefix) || (denyUnder && resource.prefix.startsWith(key));
  });
}
