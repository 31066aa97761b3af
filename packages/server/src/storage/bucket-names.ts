import { isStorageType } from 'stowage-client/protocol';

// Placeholder until the full S3 rules land.
export const RESERVED_BUCKET_NAMES = ['data', 'tmp', 'result', 'buckets', 'signed', 'upload', 'usage', 'copy', 'move'];
export function explainInvalidBucketName(name: string): string | undefined {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) ? undefined : 'bad name';
}
export function isReservedBucketName(name: string): boolean {
  return RESERVED_BUCKET_NAMES.includes(name);
}
export function isStorageTypeOrBucketName(value: string): boolean {
  return isStorageType(value) || /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value);
}
