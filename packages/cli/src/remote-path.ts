import { isStorageType, type StorageType } from 'stowage-client/protocol';

/** `stowage://TYPE/KEY` names a stored value; anything else is a local path. */
export interface RemotePath {
  type: StorageType;
  key: string;
}

const SCHEME = 'stowage://';

export function parseRemote(text: string): RemotePath | undefined {
  if (!text.startsWith(SCHEME)) return undefined;
  const rest = text.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const type = slash === -1 ? rest : rest.slice(0, slash);
  if (!isStorageType(type))
    throw new UsageError(`"${type}" in ${text} is not a storage type; use stowage://data/…, stowage://tmp/… or stowage://result/…`);
  return { type, key: slash === -1 ? '' : rest.slice(slash + 1) };
}

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {}

/** A key as given to mv: `stowage://TYPE/KEY`, or a plain KEY in the storage type of -t. */
export function parseKeyArgument(text: string, defaultType: StorageType): RemotePath {
  return parseRemote(text) ?? { type: defaultType, key: text };
}

/** A prefix that ends at a folder boundary: `docs` means `docs/` (not `docs-old/`); '' stays everything. */
export function asFolderPrefix(key: string): string {
  return key === '' || key.endsWith('/') ? key : `${key}/`;
}
