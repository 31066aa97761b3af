import { STORAGE_TYPES, type StorageType } from 'stowage-client/protocol';
import { s3Errors } from './errors.js';

/** A tenant's buckets are its storage types. */
export function storageTypeOf(bucket: string): StorageType {
  if (!(STORAGE_TYPES as readonly string[]).includes(bucket)) throw s3Errors.noSuchBucket(bucket);
  return bucket as StorageType;
}

/** S3's <Owner> of everything a tenant holds: the tenant is the owner of its buckets and objects. */
export function ownerXml(tenant: string): { ID: string; DisplayName: string } {
  return { ID: tenant, DisplayName: tenant };
}

/** ListAllMyBucketsResult. The buckets exist for every tenant from the start (no creation date to tell). */
export function listBucketsBody(tenant: string): Record<string, unknown> {
  return {
    Owner: ownerXml(tenant),
    Buckets: { Bucket: STORAGE_TYPES.map((name) => ({ Name: name, CreationDate: '1970-01-01T00:00:00.000Z' })) },
  };
}
