import { isStorageType } from 'stowage-client/protocol';

/**
 * Bucket names: S3's rules for general purpose buckets, so that any name Stowage takes is one S3
 * would take (and tools' client-side checks agree), and the names Stowage keeps for itself.
 */

export const MIN_BUCKET_NAME_LENGTH = 3;
export const MAX_BUCKET_NAME_LENGTH = 63;

/** Prefixes and suffixes S3 keeps for its own names (IDN, internal, examples; access point aliases, Object Lambda, MRAP, directory and table buckets). */
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];
const IPV4_LIKE = /^\d+\.\d+\.\d+\.\d+$/;
/** The length and alphabet alone: what explainInvalidBucketName checks first, cheaply. */
const NAME_SHAPE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Names no user may create: the storage types every user has as built-in buckets (data, tmp,
 * result), and the path segments storage API v1 serves under /storage/v1/ beside them, which a
 * bucket name in that position would shadow.
 */
export const RESERVED_BUCKET_NAMES = ['data', 'tmp', 'result', 'buckets', 'keys', 'signed', 'upload', 'usage', 'copy', 'move'] as const;

export function isReservedBucketName(name: string): boolean {
  return (RESERVED_BUCKET_NAMES as readonly string[]).includes(name);
}

/**
 * Why `name` breaks S3's naming rules, as a sentence for the error message; undefined for a
 * valid name. Reserved names (isReservedBucketName) are valid names: checking them is the caller's.
 */
export function explainInvalidBucketName(name: string): string | undefined {
  if (name.length < MIN_BUCKET_NAME_LENGTH || name.length > MAX_BUCKET_NAME_LENGTH)
    return `A bucket name is ${MIN_BUCKET_NAME_LENGTH} to ${MAX_BUCKET_NAME_LENGTH} characters long; this one has ${name.length}`;
  if (!/^[a-z0-9.-]+$/.test(name)) return 'A bucket name may hold only lower-case letters, digits, dots (.) and hyphens (-)';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'A bucket name begins and ends with a letter or a digit';
  if (name.includes('..')) return 'A bucket name may not hold two adjacent dots';
  if (IPV4_LIKE.test(name)) return 'A bucket name may not be formatted as an IP address';
  const prefix = RESERVED_PREFIXES.find((reserved) => name.startsWith(reserved));
  if (prefix) return `A bucket name may not begin with "${prefix}" (S3 keeps it)`;
  const suffix = RESERVED_SUFFIXES.find((reserved) => name.endsWith(reserved));
  if (suffix) return `A bucket name may not end with "${suffix}" (S3 keeps it)`;
  return undefined;
}

/**
 * Whether `value` can be what the index keeps in a row's storage type column: a storage type or
 * something shaped like a bucket name (length and alphabet only; the full rules are checked once,
 * when the bucket is created). Cheap enough for every row read.
 */
export function isStorageTypeOrBucketName(value: unknown): value is string {
  return isStorageType(value) || (typeof value === 'string' && NAME_SHAPE.test(value));
}
