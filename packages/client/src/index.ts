/**
 * stowage-client: the TypeScript client of the Stowage storage service (storage API v1), for
 * every runtime with `fetch` (browsers, Deno, Bun, Workers, Node). Node's entry,
 * `stowage-client/node` (what `stowage-client` resolves to on Node), adds files and Node streams.
 *
 * @example
 * import { Storage } from 'stowage-client';
 * const storage = new Storage({ url: 'http://127.0.0.1:8787/storage/v1' });
 * await storage.set('hello.txt', 'hi');
 * await storage.buckets.create('team-results');
 * await storage.set('q1/summary.csv', 'a,b', 'team-results');
 *
 * @module
 */
export { ApiKeys, type CreateApiKeyOptions } from './api-keys.js';
export { Auth, type AuthOptions, decodeClaims, type TokenInfo, type TokenStore } from './auth.js';
export { abandonUpload, type UploadBlobOptions, uploadBlob } from './blob-upload.js';
export type { StorageValue } from './bodies.js';
export {
  type BucketCallOptions,
  Buckets,
  type CreateBucketOptions,
  type GranteeOptions,
  type GrantOptions,
  type ListBucketsOptions,
  type ShareOptions,
  type UnshareOptions,
} from './buckets.js';
export type { CopyOptions, KeyLocation, PrefixLocation } from './copy-move.js';
export {
  AuthError,
  BadRequestError,
  ConflictError,
  ConnectionError,
  type ErrorFields,
  ForbiddenError,
  InsufficientStorageError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  QuotaExceededError,
  RateLimitError,
  ServerError,
  StorageError,
  TimeoutError,
} from './errors.js';
export type { DetailedListEntry, FolderEntry, ListEntry, ListingShape, ObjectEntry } from './folder-listing.js';
export type {
  HttpRequest,
  HttpResponse,
  HttpTimeouts,
  HttpTransport,
  HttpTransportFactory,
  RequestBody,
  ResponseBody,
} from './http-transport.js';
export { decodeMetadataValue, encodeMetadataValue } from './metadata-codec.js';
export type { ObjectAttributes, ObjectInfo } from './object-attributes.js';
export type { PrefixUsageSummary, UsageCount } from './prefix-operations.js';
export {
  type ApiKeyInfo,
  type ApiKeyScope,
  type BucketExpiryRule,
  type BucketGrant,
  type BucketInfo,
  type BucketList,
  type BucketName,
  type BucketSettingsChange,
  type BucketSummary,
  type CopyKeyResult,
  type CopyPrefixResult,
  type CreatedApiKey,
  type DeleteManyItem,
  type DeleteManyResult,
  type DeletePrefixResult,
  type FolderListing,
  type GrantGrantee,
  type GrantPermission,
  type KeptVersions,
  keptUnder,
  type ObjectDetails,
  type PrefixUsage,
  type PublicAccessBlockSettings,
  prefixRetentionDays,
  type RestoreKeyResult,
  type RestorePrefixResult,
  STORAGE_TYPES,
  type StorageType,
  type UsageReport,
  type VersionEntry,
  type VersionsPage,
  windowNewerVersions,
} from './protocol.js';
export { Retry, type RetryCause, type RetryOptions, RetryState } from './retry.js';
export type { IncrementalSha256, Sha256Factory } from './sha256.js';
export {
  type CallOptions,
  type ListOptions,
  type RuntimeDefaults,
  type SetResult,
  Storage,
  type StorageOptions,
  type TypeOrOptions,
  type UsageOptions,
} from './storage.js';
export { fetchTransport } from './transport.js';
