import { explainInvalidKey } from 'stowage-client/protocol';
import type { ObjectRef } from '../backends/backend.js';
import { fail } from '../errors.js';
import { isStorageTypeOrBucketName } from './bucket-names.js';

export type { ObjectRef } from '../backends/backend.js';

/** Checks a storage type or bucket name from a URL (its form only); 400 InvalidStorageType otherwise. */
export function parseStorageType(value: string): string {
  if (!isStorageTypeOrBucketName(value))
    throw fail('InvalidStorageType', `"${value}" is neither a storage type (data, tmp, result) nor a bucket's name`);
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
