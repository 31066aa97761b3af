import { explainInvalidKey, isStorageType, type StorageType } from 'stowage-client/protocol';
import type { ObjectRef } from '../backends/backend.js';
import { fail } from '../errors.js';

export type { ObjectRef } from '../backends/backend.js';

/** Checks a storage type from a URL; 400 InvalidStorageType otherwise. */
export function parseStorageType(value: string): StorageType {
  if (!isStorageType(value)) throw fail('InvalidStorageType', `"${value}" is not a storage type; use data, tmp or result`);
  return value;
}

/** Checks a key; 400 InvalidKey with the reason otherwise. */
export function validateKey(key: string): string {
  const problem = explainInvalidKey(key);
  if (problem) throw fail('InvalidKey', problem);
  return key;
}

export function makeRef(tenant: string, type: string, key: string): ObjectRef {
  return { tenant, type: parseStorageType(type), key: validateKey(key) };
}
