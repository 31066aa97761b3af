import { explainInvalidBucketName, isReservedBucketName } from '../../src/storage/bucket-names.js';
import { BASE, type BucketGrant, type BucketInfo, type GrantGrantee, type GrantPermission } from './api.js';
import { encodeKey } from './keys.js';

/**
 * Why `name` cannot be a new bucket's name, as a sentence; undefined when the server would take
 * it (S3's naming rules and the names Stowage keeps, the server's own check). Whether the name is
 * free only the server knows.
 */
export function explainBucketName(name: string): string | undefined {
  if (name === '') return 'Enter a name.';
  const problem = explainInvalidBucketName(name);
  if (problem) return `${problem}.`;
  if (isReservedBucketName(name)) return `"${name}" is reserved: the built-in buckets and the paths of the storage API have it.`;
  return undefined;
}

/** What the server's bucket errors mean, said for the person who caused them. */
export function explainBucketError(code: string | undefined, name: string, message: string): string {
  switch (code) {
    case 'BucketAlreadyExists':
      return `The name "${name}" is taken by another user's bucket: bucket names are shared by every user of this server. Choose another name.`;
    case 'BucketAlreadyOwnedByYou':
      return `You already have a bucket named "${name}".`;
    case 'InvalidBucketName':
      return `The server refused the name: ${message}`;
    case 'TooManyBuckets':
      return `You own as many buckets as the server allows. Delete one you no longer need first. (${message})`;
    case 'BucketNotEmpty':
      return `"${name}" still holds objects, and only an empty bucket can be deleted. Delete its files and folders first (they are listed in the bucket), then delete the bucket.`;
    case 'NoSuchBucket':
      return `There is no bucket named "${name}" any more.`;
    case 'AccessDenied':
      return `You may not do that with "${name}": ${message}`;
    default:
      return message;
  }
}

/** The permissions a grant of the console gives, in the order it offers them. */
export const GRANT_CHOICES: Array<{ value: string; label: string; permissions: GrantPermission[] }> = [
  { value: 'READ', label: 'Read (list and download)', permissions: ['READ'] },
  { value: 'READ+WRITE', label: 'Read and write (also upload and delete)', permissions: ['READ', 'WRITE'] },
  { value: 'WRITE', label: 'Write only (upload and delete, no reading)', permissions: ['WRITE'] },
  { value: 'FULL_CONTROL', label: 'Full control (read, write and manage sharing)', permissions: ['FULL_CONTROL'] },
];

const PERMISSION_LABELS: Record<GrantPermission, string> = {
  READ: 'Read',
  WRITE: 'Write',
  READ_ACP: 'See sharing',
  WRITE_ACP: 'Change sharing',
  FULL_CONTROL: 'Full control',
};

export function permissionLabel(permission: GrantPermission): string {
  return PERMISSION_LABELS[permission] ?? permission;
}

export function granteeLabel(grantee: GrantGrantee): string {
  if ('user' in grantee) return grantee.user;
  return grantee.group === 'everyone' ? 'Everyone (public, no sign-in)' : 'Every signed-in user';
}

export const EVERYONE: GrantGrantee = { group: 'everyone' };

function isEveryone(grantee: GrantGrantee): boolean {
  return 'group' in grantee && grantee.group === 'everyone';
}

/** Whether a grant lets anyone, without credentials, read what is under its prefix. */
export function isPublicRead(grant: BucketGrant): boolean {
  return isEveryone(grant.grantee) && (grant.permission === 'READ' || grant.permission === 'FULL_CONTROL');
}

/** The public read grant of exactly `prefix`, if the bucket has one. */
export function publicGrantAt(info: BucketInfo, prefix: string): BucketGrant | undefined {
  return info.grants.find((grant) => isPublicRead(grant) && grant.prefix === prefix);
}

/** Whether the bucket's public access block makes grants to everyone ineffective, or refuses new ones. */
export function publicBlocked(info: BucketInfo): { ignored: boolean; refused: boolean } {
  const block = info.publicAccessBlock;
  return { ignored: Boolean(block?.ignorePublicAcls), refused: Boolean(block?.blockPublicAcls) };
}

/**
 * Whether anyone may read `key` without credentials, by the bucket's grants or its policy (what
 * the console can tell from the settings; an object's own ACL is not in them).
 */
export function isPubliclyReadable(info: BucketInfo, key: string): boolean {
  const block = info.publicAccessBlock;
  if (!block?.ignorePublicAcls && info.grants.some((grant) => isPublicRead(grant) && key.startsWith(grant.prefix))) return true;
  if (block?.restrictPublicBuckets || !info.policy) return false;
  return policyAllowsPublicRead(info.policy, info.name, key);
}

/** A bucket policy statement that allows everyone s3:GetObject on a resource covering the key (and none that denies it). */
function policyAllowsPublicRead(policy: string, bucket: string, key: string): boolean {
  let statements: unknown;
  try {
    statements = (JSON.parse(policy) as { Statement?: unknown }).Statement;
  } catch {
    return false;
  }
  const list = (Array.isArray(statements) ? statements : [statements]).filter(
    (statement): statement is Record<string, unknown> => typeof statement === 'object' && statement !== null,
  );
  const strings = (value: unknown) => (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === 'string');
  const covers = (statement: Record<string, unknown>) =>
    strings(statement.Action).some((action) => action === 's3:GetObject' || action === 's3:*' || action === '*') &&
    strings(statement.Resource).some((resource) => {
      const arn = `arn:aws:s3:::${bucket}/`;
      if (!resource.startsWith(arn)) return false;
      const pattern = resource.slice(arn.length);
      return pattern.endsWith('*') ? key.startsWith(pattern.slice(0, -1)) : key === pattern;
    });
  const principal = (statement: Record<string, unknown>) => {
    const value = statement.Principal;
    if (value === '*') return true;
    return typeof value === 'object' && value !== null && strings((value as { AWS?: unknown }).AWS).includes('*');
  };
  if (list.some((statement) => statement.Effect === 'Deny' && covers(statement))) return false;
  return list.some((statement) => statement.Effect === 'Allow' && principal(statement) && covers(statement));
}

/**
 * Whether `user` may change the sharing of the bucket `info` describes: its owner, or a holder of
 * WRITE_ACP (or FULL_CONTROL) on the whole bucket.
 */
export function canManageSharing(info: BucketInfo, user: string): boolean {
  if (info.owner === user) return true;
  return info.grants.some(
    (grant) =>
      grant.prefix === '' &&
      (grant.permission === 'WRITE_ACP' || grant.permission === 'FULL_CONTROL') &&
      ('user' in grant.grantee ? grant.grantee.user === user : true),
  );
}

/**
 * The object's public link: the plain `GET {bucket}/get/{key}` URL on this origin, which answers
 * without credentials while the object is public. The key is percent-encoded segment by segment so
 * the link reads like the key; a key with a `.` or `..` segment, which URL parsers would collapse,
 * is encoded as one segment (`/` as %2F), as every other object URL of the console is.
 */
export function publicUrl(bucket: string, key: string, origin = location.origin): string {
  const segments = key.split('/');
  const path = segments.some((part) => part === '.' || part === '..') ? encodeKey(key) : segments.map(encodeKey).join('/');
  return `${origin}${BASE}/${encodeURIComponent(bucket)}/get/${path}`;
}

/**
 * Whether the object answers without credentials: an anonymous HEAD of its public link. For
 * buckets whose settings the user may not read (shared with them), where nothing else can tell.
 */
export async function answersAnonymously(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { method: 'HEAD', credentials: 'omit', cache: 'no-store' });
    return response.ok;
  } catch {
    return false;
  }
}
