import { type BucketName, isStorageType } from 'stowage-client/protocol';

/** `stowage://BUCKET/KEY` names a stored value (BUCKET: a storage type or a bucket's name); anything else is a local path. */
export interface RemotePath {
  type: BucketName;
  key: string;
}

const SCHEME = 'stowage://';

/**
 * What a bucket name may look like (S3's characters and lengths). The server has the last word;
 * this only turns a typo such as `Data` or `my_bucket` into a usage error instead of a request.
 */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Why `text` is neither a storage type nor a bucket name, or undefined when it may be one. */
export function explainNotBucket(text: string): string | undefined {
  if (isStorageType(text) || BUCKET_NAME.test(text)) return undefined;
  return `"${text}" is neither a storage type (data, tmp, result) nor a bucket name (3-63 lower-case letters, digits, dots and hyphens)`;
}

/** A storage type or bucket name given on the command line; UsageError when it cannot be one. */
export function parseBucketName(text: string): BucketName {
  const problem = explainNotBucket(text);
  if (problem) throw new UsageError(problem);
  return text;
}

export function parseRemote(text: string): RemotePath | undefined {
  if (!text.startsWith(SCHEME)) return undefined;
  const rest = text.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const type = slash === -1 ? rest : rest.slice(0, slash);
  const problem = explainNotBucket(type);
  if (problem)
    throw new UsageError(`${problem}, in ${text}; use stowage://data/…, stowage://tmp/…, stowage://result/… or stowage://BUCKET/…`);
  return { type, key: slash === -1 ? '' : rest.slice(slash + 1) };
}

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {}

/** A key as given to mv: `stowage://BUCKET/KEY`, or a plain KEY in the storage type (or bucket) of -t. */
export function parseKeyArgument(text: string, defaultType: BucketName): RemotePath {
  return parseRemote(text) ?? { type: defaultType, key: text };
}

/** A prefix that ends at a folder boundary: `docs` means `docs/` (not `docs-old/`); '' stays everything. */
export function asFolderPrefix(key: string): string {
  return key === '' || key.endsWith('/') ? key : `${key}/`;
}
