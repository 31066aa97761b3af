import { Auth, StorageError } from 'stowage-client';
import type {
  ApiKeyInfo,
  BucketGrant,
  BucketInfo,
  BucketSummary,
  CopyKeyResult,
  CopyPrefixResult,
  CreateBucketRequest,
  CreatedApiKey,
  GrantGrantee,
  GrantPermission,
  ObjectDetails,
  RestoreKeyResult,
  RestorePrefixResult,
  UnshareRequest,
  VersionEntry,
  VersionsPage,
} from 'stowage-client/protocol';
import { ConsoleStorage, type StartOfValue } from './console-storage.js';
import { watchRefusals } from './refusals.js';

export type {
  ApiKeyInfo,
  BucketGrant,
  BucketInfo,
  BucketSummary,
  CreatedApiKey,
  GrantGrantee,
  GrantPermission,
  ObjectDetails,
  RestorePrefixResult,
  StartOfValue,
  VersionEntry,
};

export type StorageType = 'data' | 'tmp' | 'result';
export const STORAGE_TYPES: readonly StorageType[] = ['data', 'tmp', 'result'];

/** Where objects are: a built-in storage type or a named bucket, addressed alike in every path. */
export type BucketName = string;

export function isStorageType(name: string): name is StorageType {
  return (STORAGE_TYPES as readonly string[]).includes(name);
}

/** A failed request: the client's error, with the server's stable code and message. */
export { StorageError as ApiError };

export const BASE = '/storage/v1';
/** Most buckets the selector lists (pages of GET /buckets). */
const MAX_LISTED_BUCKETS = 5000;

/** Exchanges an API key for a token at `/auth/token`, as every client does. */
export async function exchangeApiKey(clientId: string, secret: string): Promise<string> {
  return new Auth({ clientId, clientSecret: secret, domain: `${location.origin}/auth` }).refresh();
}

/** The storage API v1 and its Stowage extensions, as the signed-in user, through the client library. */
export class Api {
  readonly storage: ConsoleStorage;

  /** `onRefused`: called when the server answers 401 (the token expired or was refused). */
  constructor(
    readonly token: string,
    onRefused?: () => void,
  ) {
    this.storage = new ConsoleStorage({
      url: `${location.origin}${BASE}`,
      auth: new Auth({ token }),
      ...(onRefused && { transport: watchRefusals(onRefused) }),
    });
  }

  /** The user the token acts as, and what they store (also proves the token works). */
  async whoami(): Promise<{ tenant: string; bytes: number; objects: number; quotaBytes: number | null }> {
    return this.storage.usage();
  }

  async usage(type: BucketName, prefix: string): Promise<{ objects: number; bytes: number }> {
    return this.storage.usage({ prefix, storageType: type });
  }

  /** The value as a Blob of its content type, for a download link. */
  async download(type: BucketName, key: string, contentType: string): Promise<Blob> {
    return new Blob([(await this.storage.getBytes(key, type)) as Uint8Array<ArrayBuffer>], { type: contentType });
  }

  /** The first `bytes` bytes of a value (a range read), and its whole size. */
  async readStart(type: BucketName, key: string, bytes: number): Promise<StartOfValue> {
    return this.storage.readStart(key, type, bytes);
  }

  /** Whether a value is stored at `key`. */
  async exists(type: BucketName, key: string): Promise<boolean> {
    return this.storage.exists(key, type);
  }

  async remove(type: BucketName, key: string): Promise<void> {
    await this.storage.delete(key, type);
  }

  async deletePrefix(type: BucketName, prefix: string): Promise<{ deleted: number; bytes: number }> {
    return this.storage.deletePrefix(prefix, { storageType: type });
  }

  /** A page of the versions retention keeps under `prefix` (current ones, earlier ones, delete markers), by key, newest first. */
  async versions(type: BucketName, prefix: string, next?: string, limit = 1000): Promise<VersionsPage> {
    return this.storage.versionsPage(prefix, { storageType: type, next, limit });
  }

  /** Makes a kept version of a key current again (`versionId`, or the newest earlier value). */
  async restoreKey(type: BucketName, key: string, versionId?: string): Promise<RestoreKeyResult> {
    return this.storage.restore(key, { storageType: type, versionId });
  }

  /** Puts every key under `prefix` back as it was at `at` (an ISO instant). */
  async restorePrefix(type: BucketName, prefix: string, at: string): Promise<RestorePrefixResult> {
    return this.storage.restorePrefix(prefix, { storageType: type, at });
  }

  /**
   * Copy or move on the server: `key` or `prefix` on both sides. Without `overwrite` an existing
   * destination key is kept: DestinationExists for a key, skipped under a prefix.
   */
  async transfer(
    operation: 'copy' | 'move',
    source: { type: BucketName; key?: string; prefix?: string },
    destination: { type: BucketName; key?: string; prefix?: string },
    overwrite = false,
  ): Promise<CopyKeyResult | CopyPrefixResult> {
    if (source.prefix !== undefined && destination.prefix !== undefined) {
      return this.storage[operation](
        { type: source.type, prefix: source.prefix },
        { type: destination.type, prefix: destination.prefix },
        { overwrite },
      );
    }
    return this.storage[operation](
      { type: source.type, key: source.key ?? '' },
      { type: destination.type, key: destination.key ?? '' },
      { overwrite },
    );
  }

  async signedUrl(type: BucketName, key: string, expiresInSeconds: number): Promise<string> {
    return this.storage.getSignedUrl(key, { storageType: type, expiresIn: expiresInSeconds });
  }

  async uploadUrl(type: BucketName, key: string, contentType: string): Promise<string> {
    return this.storage.getUploadUrl(key, { storageType: type, contentType: contentType || undefined });
  }

  /** The user's API keys, oldest first, revoked ones too. */
  async listKeys(): Promise<ApiKeyInfo[]> {
    return this.storage.keys.list();
  }

  /** A new API key: its secret is in this answer only. */
  async createKey(options: { name: string; readOnly?: boolean; bucket?: string; prefix?: string }): Promise<CreatedApiKey> {
    return this.storage.keys.create(options);
  }

  async revokeKey(clientId: string): Promise<void> {
    await this.storage.keys.revoke(clientId);
  }

  /** The buckets the user owns or was granted something in, every page, in name order. */
  async listBuckets(): Promise<BucketSummary[]> {
    const buckets: BucketSummary[] = [];
    for await (const bucket of this.storage.buckets.iterList()) {
      buckets.push(bucket);
      if (buckets.length >= MAX_LISTED_BUCKETS) break;
    }
    return buckets;
  }

  /** A bucket and its settings: for its owner, or a holder of READ_ACP. */
  async bucketInfo(name: string): Promise<BucketInfo> {
    return this.storage.buckets.info(name);
  }

  async createBucket(request: CreateBucketRequest): Promise<BucketInfo> {
    return this.storage.buckets.create(request.name);
  }

  /** Deletes an empty bucket (its owner only; BucketNotEmpty while it holds an object). */
  async deleteBucket(name: string): Promise<void> {
    await this.storage.buckets.delete(name);
  }

  /** Adds a grant; answers the bucket as it now is. */
  async share(name: string, grant: BucketGrant): Promise<BucketInfo> {
    return this.storage.buckets.share(name, { ...grant.grantee, permission: grant.permission, prefix: grant.prefix });
  }

  /** Removes the grantee's grants (of one permission and/or prefix when given); answers the bucket as it now is. */
  async unshare(name: string, request: UnshareRequest): Promise<BucketInfo> {
    return this.storage.buckets.unshare(name, { ...request.grantee, permission: request.permission, prefix: request.prefix });
  }
}
