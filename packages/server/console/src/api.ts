import type {
  BucketGrant,
  BucketInfo,
  BucketList,
  BucketSummary,
  CreateBucketRequest,
  GrantGrantee,
  GrantPermission,
  RestoreKeyResult,
  RestorePrefixResult,
  UnshareRequest,
  VersionEntry,
  VersionsPage,
} from 'stowage-client/protocol';
import { encodeKey } from './keys.js';

export type { BucketGrant, BucketInfo, BucketSummary, GrantGrantee, GrantPermission, RestorePrefixResult, VersionEntry };

export type StorageType = 'data' | 'tmp' | 'result';
export const STORAGE_TYPES: readonly StorageType[] = ['data', 'tmp', 'result'];

/** Where objects are: a built-in storage type or a named bucket, addressed alike in every path. */
export type BucketName = string;

export function isStorageType(name: string): name is StorageType {
  return (STORAGE_TYPES as readonly string[]).includes(name);
}

/** One object as a detailed listing describes it. */
export interface ObjectDetails {
  key: string;
  size: number;
  etag: string;
  sha256: string;
  lastModified: string;
  contentType: string;
  expiresAt: string | null;
  metadata: Record<string, string>;
  cacheControl: string | null;
  contentDisposition: string | null;
}

export interface FolderPage {
  objects: ObjectDetails[];
  folders: string[];
  /** The X-NEXT token of the next page, when there is one. */
  next: string | undefined;
}

/** A failed request: the server's stable error code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const BASE = '/storage/v1';
/** Most buckets the selector lists (pages of GET /buckets). */
const MAX_LISTED_BUCKETS = 5000;
/** Entries per page of the browser: enough to fill a screen, few enough to come quickly. */
export const PAGE_SIZE = 200;

/** Exchanges an API key for a token at `/auth/token`, as every client does. */
export async function exchangeApiKey(clientId: string, secret: string): Promise<string> {
  const response = await fetch('/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: clientId, refresh_token: secret, grant_type: 'refresh_token' }),
  });
  const body = await readJson<{ access_token: string }>(response);
  return body.access_token;
}

/** The storage API v1 and its Stowage extensions, as the signed-in user. */
export class Api {
  constructor(readonly token: string) {}

  /** The user the token acts as, and what they store (also proves the token works). */
  async whoami(): Promise<{ tenant: string; bytes: number; objects: number; quotaBytes: number | null }> {
    return readJson(await this.request('GET', '/usage'));
  }

  async listFolder(type: BucketName, prefix: string, next?: string): Promise<FolderPage> {
    const query = new URLSearchParams({ prefix, delimiter: '/', details: 'true', limit: String(PAGE_SIZE) });
    const response = await this.request('GET', `/${segment(type)}/list?${query}`, { headers: next ? { 'x-next': next } : {} });
    const page = await readJson<{ objects: ObjectDetails[]; folders: string[] }>(response);
    return { ...page, next: response.headers.get('x-next') ?? undefined };
  }

  async usage(type: BucketName, prefix: string): Promise<{ objects: number; bytes: number }> {
    return readJson(await this.request('GET', `/${segment(type)}/usage?${new URLSearchParams({ prefix })}`));
  }

  async download(type: BucketName, key: string): Promise<Blob> {
    const response = await this.request('GET', `/${segment(type)}/get/${encodeKey(key)}`);
    if (!response.ok) await readJson(response);
    return response.blob();
  }

  async remove(type: BucketName, key: string): Promise<void> {
    const response = await this.request('DELETE', `/${segment(type)}/${encodeKey(key)}`);
    if (!response.ok) await readJson(response);
  }

  async deletePrefix(type: BucketName, prefix: string): Promise<{ deleted: number; bytes: number }> {
    return readJson(await this.request('POST', `/${segment(type)}/delete_prefix?${new URLSearchParams({ prefix })}`));
  }

  /** A page of the versions retention keeps under `prefix` (current ones, earlier ones, delete markers), by key, newest first. */
  async versions(type: BucketName, prefix: string, next?: string, limit = 1000): Promise<VersionsPage> {
    const query = new URLSearchParams({ prefix, limit: String(limit) });
    return readJson(await this.request('GET', `/${segment(type)}/versions?${query}`, { headers: next ? { 'x-next': next } : {} }));
  }

  /** Makes a kept version of a key current again (`versionId`, or the newest earlier value). */
  async restoreKey(type: BucketName, key: string, versionId?: string): Promise<RestoreKeyResult> {
    return readJson(await this.json('POST', `/${segment(type)}/restore`, versionId === undefined ? { key } : { key, versionId }));
  }

  /** Puts every key under `prefix` back as it was at `at` (an ISO instant). */
  async restorePrefix(type: BucketName, prefix: string, at: string): Promise<RestorePrefixResult> {
    return readJson(await this.json('POST', `/${segment(type)}/restore`, { prefix, at }));
  }

  /** Copy or move on the server: `key` or `prefix` on both sides. */
  async transfer(
    operation: 'copy' | 'move',
    source: { type: BucketName; key?: string; prefix?: string },
    destination: { type: BucketName; key?: string; prefix?: string },
  ): Promise<unknown> {
    return readJson(
      await this.request('POST', `/${operation}`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source, destination }),
      }),
    );
  }

  async signedUrl(type: BucketName, key: string, expiresInSeconds: number): Promise<string> {
    const query = new URLSearchParams({ expires_in: String(expiresInSeconds) });
    const response = await this.request('GET', `/${segment(type)}/get_signed_url/${encodeKey(key)}?${query}`);
    if (!response.ok) await readJson(response);
    return response.text();
  }

  async uploadUrl(type: BucketName, key: string, contentType: string): Promise<string> {
    const query = new URLSearchParams(contentType ? { content_type: contentType } : {});
    const response = await this.request('GET', `/${segment(type)}/new_resumable_url/${encodeKey(key)}?${query}`);
    if (!response.ok) await readJson(response);
    return response.text();
  }

  /** `PUT …/set/KEY` URL and headers, for uploads sent with progress events. */
  putTarget(type: BucketName, key: string): { url: string; headers: Record<string, string> } {
    return { url: `${BASE}/${segment(type)}/set/${encodeKey(key)}`, headers: { authorization: `Bearer ${this.token}` } };
  }

  /** The buckets the user owns or was granted something in, every page, in name order. */
  async listBuckets(): Promise<BucketSummary[]> {
    const buckets: BucketSummary[] = [];
    let after: string | null = null;
    do {
      const query = new URLSearchParams({ limit: '1000', ...(after ? { after } : {}) });
      const page: BucketList = await readJson(await this.request('GET', `/buckets?${query}`));
      buckets.push(...page.buckets);
      after = page.next;
    } while (after && buckets.length < MAX_LISTED_BUCKETS);
    return buckets;
  }

  /** A bucket and its settings: for its owner, or a holder of READ_ACP. */
  async bucketInfo(name: string): Promise<BucketInfo> {
    return readJson(await this.request('GET', `/buckets/${segment(name)}`));
  }

  async createBucket(request: CreateBucketRequest): Promise<BucketInfo> {
    return readJson(await this.json('POST', '/buckets', request));
  }

  /** Deletes an empty bucket (its owner only; BucketNotEmpty while it holds an object). */
  async deleteBucket(name: string): Promise<void> {
    const response = await this.request('DELETE', `/buckets/${segment(name)}`);
    if (!response.ok) await readJson(response);
  }

  /** Adds a grant; answers the bucket as it now is. */
  async share(name: string, grant: BucketGrant): Promise<BucketInfo> {
    return readJson(await this.json('POST', `/buckets/${segment(name)}/share`, grant));
  }

  /** Removes the grantee's grants (of one permission and/or prefix when given); answers the bucket as it now is. */
  async unshare(name: string, request: UnshareRequest): Promise<BucketInfo> {
    return readJson(await this.json('POST', `/buckets/${segment(name)}/unshare`, request));
  }

  private json(method: string, path: string, body: unknown): Promise<Response> {
    return this.request(method, path, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  private request(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
    return fetch(`${BASE}${path}`, { method, body: init.body, headers: { authorization: `Bearer ${this.token}`, ...init.headers } });
  }
}

/** A bucket name as a path segment (names are plain already; this keeps any other string one segment). */
function segment(name: string): string {
  return encodeURIComponent(name);
}

/** The JSON body of a success, or an ApiError with the server's code and message. */
async function readJson<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = body as { code?: string; message?: string } | undefined;
    throw new ApiError(response.status, error?.code ?? `HTTP${response.status}`, error?.message ?? (text || response.statusText));
  }
  return body as T;
}
