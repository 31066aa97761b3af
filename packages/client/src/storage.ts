import { ApiKeys } from './api-keys.js';
import { Auth } from './auth.js';
import { uploadBlobThrough } from './blob-upload.js';
import { bodyFromValue, type StorageValue } from './bodies.js';
import { Buckets, bucketSegment } from './buckets.js';
import { hashWhileSending, settlePreconditionFailed } from './conditional-write.js';
import { type CopyOptions, copyOrMove, type KeyLocation, type PrefixLocation } from './copy-move.js';
import { BadRequestError, ConnectionError, errorFromResponse, NotFoundError } from './errors.js';
import {
  type DetailedListEntry,
  entriesOf,
  fetchListPage,
  isShaped,
  type ListEntry,
  type ListingShape,
  listQuery,
} from './folder-listing.js';
import type { HttpTransportFactory } from './http-transport.js';
import { attributeHeaders, type ObjectAttributes, type ObjectInfo, objectInfoFromHeaders } from './object-attributes.js';
import { deleteMany, deletePrefix, type PrefixUsageSummary, prefixUsage, prefixUsageOfEveryType } from './prefix-operations.js';
import {
  type BucketName,
  type CopyKeyResult,
  type CopyPrefixResult,
  type DeleteManyResult,
  type DeletePrefixResult,
  encodeKey,
  explainInvalidKey,
  type FolderListing,
  Headers,
  type ObjectDetails,
  type PrefixUsage,
  type RestoreKeyResult,
  type RestorePrefixResult,
  Routes,
  USAGE_PATH,
  type UsageReport,
  type VersionEntry,
  type VersionsPage,
} from './protocol.js';
import { resumingBody } from './resuming-download.js';
import { listVersions, restoreKey, restorePrefix, versionsPage } from './retention.js';
import { Retry } from './retry.js';
import { jsSha256, type Sha256Factory } from './sha256.js';
import { chunksOf, collect, countBytes, streamOfChunks } from './streams.js';
import {
  type BodySource,
  classifyNetworkError,
  DEFAULT_TIMEOUT,
  fetchTransport,
  readErrorResponse,
  Transport,
  type TransportResponse,
} from './transport.js';

/** Per-call options; a plain string is shorthand for `{ storageType }`. */
export interface CallOptions extends ObjectAttributes {
  /** `data` (default), `tmp` (expires), `result`, or the name of a bucket (see {@link Storage.buckets}). */
  storageType?: BucketName;
  /** Cancels the call. */
  signal?: AbortSignal;
  /** Called as bytes move, with the total when known. */
  onProgress?: (bytes: number, total: number | undefined) => void;
  /** Content type to store with the value (set, setFile, uploadBlob, getUploadUrl). */
  contentType?: string;
  /** Lifetime of a signed or upload URL, in seconds. */
  expiresIn?: number;
  /** Write only if the current ETag is this one (optimistic concurrency); else PreconditionFailedError. */
  ifMatch?: string;
  /** `true`: write only if no value exists at the key (create only); else PreconditionFailedError. */
  ifNoneMatch?: boolean;
  /** getSignedUrl: the file name the URL downloads as (`Content-Disposition: attachment`). */
  filename?: string;
}

/** Options of `list` and `iterList`: the call's, and the listing's shape. */
export interface ListOptions extends CallOptions, ListingShape {}

/** Options of `usage`. */
export interface UsageOptions {
  /** Count the objects under this prefix (`''`: all) instead of reporting the user's totals and limits. */
  prefix?: string;
  /** Count in this type or bucket only (the prefix defaults to `''`). Without it and with a prefix: in each storage type. */
  storageType?: BucketName;
  signal?: AbortSignal;
}

/** The storage type or bucket name as a string, or per-call options. */
export type TypeOrOptions = BucketName | CallOptions;

/** What the server answers to a successful set. */
export interface SetResult {
  key: string;
  size: number;
  etag: string;
  sha256: string;
}

export interface StorageOptions {
  /**
   * Base URL of storage API v1. Default on Node `STOWAGE_URL` or `DESCARTESLABS_STORAGE_URL`;
   * else http://127.0.0.1:8787/storage/v1.
   */
  url?: string;
  /** Credentials. Default: `new Auth()` (on Node: env vars, then ~/.stowage/token_info.json). */
  auth?: Auth;
  /**
   * Send no credentials at all: an anonymous client, for buckets (and keys) shared with everyone.
   * What is not public is refused with an `AuthError` (`MissingToken`). Not with `auth`.
   *
   * @example
   * const reader = new Storage({ anonymous: true });
   * await reader.get('maps/index.json', 'open-data'); // a bucket shared with { group: 'everyone' }
   */
  anonymous?: boolean;
  /** Retry policy for every call. Default `new Retry()`. */
  retries?: Retry;
  /** `[connect, read]` timeouts in seconds. Default {@link Storage.TIMEOUT}. */
  timeout?: readonly [number, number];
  /** Files from this size up are uploaded in resumable chunks. Default 8 MiB. */
  resumableThreshold?: number;
  /**
   * Chunk size of resumable uploads. Default: a file (Node's `setFile`) goes up as the rest of
   * the file in one request, which the server makes durable piece by piece; a Blob
   * (`setBlob`, `uploadBlob`) in chunks of 8 MiB.
   */
  chunkSize?: number;
  /**
   * The HTTP stack. Default fetch; on Node (`stowage-client/node`) undici, or `'fetch'`, or
   * `STOWAGE_HTTP_TRANSPORT`.
   */
  transport?: HttpTransportFactory;
}

/** What a runtime's entry point gives the client it builds: its HTTP transport and SHA-256. */
export interface RuntimeDefaults {
  http: HttpTransportFactory;
  sha256: Sha256Factory;
}

const DEFAULT_URL = 'http://127.0.0.1:8787/storage/v1';

export function normalize(options: TypeOrOptions | ListOptions | undefined): ListOptions {
  return typeof options === 'string' ? { storageType: options } : (options ?? {});
}

/**
 * Store arbitrary data under a key and get it back later: the TypeScript counterpart of the
 * Python `Storage` client. This one runs wherever `fetch` does (browsers, Deno, Bun, Workers,
 * Node); Node's (`stowage-client/node`) adds files and Node streams. Every method takes the storage type (`'data'`, `'tmp'`, `'result'`),
 * the name of a bucket, or an options object as its last argument.
 *
 * @example
 * const storage = new Storage();            // STOWAGE_URL + STOWAGE_TOKEN from the environment
 * await storage.set('greeting', 'hello');
 * await storage.get('greeting');           // 'hello'
 * await storage.get('q1/summary.csv', 'team-results'); // in a named bucket (own or shared)
 */
export class Storage<DownloadStream = ReadableStream<Uint8Array>> {
  /** Default `[connect, read]` timeouts in seconds, as in the Python client. */
  static readonly TIMEOUT: readonly [number, number] = DEFAULT_TIMEOUT;

  /** The base URL of the API in use. */
  readonly url: string;
  /** Whether this client sends no credentials (`{ anonymous: true }`). */
  readonly anonymous: boolean;
  /** Named buckets: create, list, share, delete. */
  readonly buckets: Buckets;
  /** The caller's own API keys: list, create (perhaps scoped), revoke. */
  readonly keys: ApiKeys;
  private readonly credentials: Auth | undefined;
  /** @internal */
  protected readonly transport: Transport;
  /** @internal */
  protected readonly resumableThreshold: number;
  /** @internal The chunk size asked for, if any. */
  protected readonly chosenChunkSize: number | undefined;
  /** @internal */
  protected readonly chunkSize: number;
  /** @internal */
  protected readonly sha256: Sha256Factory;

  constructor(options: StorageOptions = {}, runtime: RuntimeDefaults = { http: fetchTransport, sha256: jsSha256 }) {
    this.url = (options.url ?? DEFAULT_URL).replace(/\/+$/, '');
    this.anonymous = options.anonymous === true;
    if (this.anonymous && options.auth) throw new TypeError('a Storage is anonymous or has credentials (auth), not both');
    this.credentials = this.anonymous ? undefined : (options.auth ?? new Auth());
    this.credentials?.useDefaultDomain(this.url);
    const retry = options.retries ?? new Retry();
    this.transport = new Transport({
      baseUrl: this.url,
      auth: this.credentials,
      anonymous: this.anonymous,
      retry,
      timeout: options.timeout ?? Storage.TIMEOUT,
      http: options.transport ?? runtime.http,
    });
    this.sha256 = runtime.sha256;
    this.buckets = new Buckets(this.transport);
    this.keys = new ApiKeys(this.transport);
    this.resumableThreshold = options.resumableThreshold ?? 8 * 1024 * 1024;
    this.chosenChunkSize = options.chunkSize;
    this.chunkSize = options.chunkSize ?? 8 * 1024 * 1024;
  }

  /** The credentials in use. @throws {TypeError} for an anonymous Storage, which has none. */
  get auth(): Auth {
    if (!this.credentials) throw new TypeError('this Storage is anonymous ({ anonymous: true }): it has no credentials');
    return this.credentials;
  }

  /**
   * The value at `key` as a UTF-8 string.
   * @throws {NotFoundError} when there is no value at `key`.
   */
  async get(key: string, options?: TypeOrOptions): Promise<string> {
    return new TextDecoder().decode(await this.getBytes(key, options));
  }

  /** The value at `key` as bytes. @throws {NotFoundError} */
  async getBytes(key: string, options?: TypeOrOptions): Promise<Uint8Array> {
    const call = normalize(options);
    return this.transport.send({ method: 'GET', url: this.objectPath(Routes.get, key, call), signal: call.signal }, async (response) => {
      if (call.onProgress) return collect(this.guardedDownload(response, key, call));
      // Without progress to report, the transport collects the body itself: a stream pipeline
      // costs about as much CPU per call as the rest of a small GET.
      const value = await response.body.bytes();
      const expected = contentLength(response);
      if (expected !== undefined && value.length !== expected) throw this.shortBody(key, value.length, expected);
      return value;
    });
  }

  /**
   * The value at `key` as a stream, for values too large to hold in memory. The stream errors
   * if the connection breaks or stalls past the read timeout, or ends short; with `resume: true`
   * it asks for the rest instead (`Range` + `If-Match`, by the Retry policy) and goes on.
   * @throws {NotFoundError}
   *
   * @example
   * const stream = await storage.getStream('videos/big.mp4', { resume: true });
   */
  async getStream(key: string, options?: TypeOrOptions | (CallOptions & { resume?: boolean })): Promise<DownloadStream> {
    const call = normalize(options) as CallOptions & { resume?: boolean };
    const url = this.objectPath(Routes.get, key, call);
    return this.transport.send({ method: 'GET', url, signal: call.signal }, async (response) => {
      if (!call.resume) return this.toDownloadStream(this.guardedDownload(response, key, call));
      const body = resumingBody(this.transport, url, response, call.signal);
      return this.toDownloadStream(countBytes(withClientErrors(body), { total: contentLength(response), onProgress: call.onProgress }));
    });
  }

  /** The stream type of this runtime's downloads. @internal */
  protected toDownloadStream(chunks: AsyncIterable<Uint8Array>): DownloadStream {
    return streamOfChunks(chunks) as DownloadStream;
  }

  /**
   * Stores `value` at `key`, replacing any previous value atomically.
   * Strings, bytes and Blobs are retried on failure; a stream can be sent only once.
   * With `ifNoneMatch` or `ifMatch`, a retry answered 412 after a lost response is a success
   * when the value at `key` has the sha256 of the bytes sent (the first attempt's own write).
   * `metadata`, `cacheControl` and `contentDisposition` are stored with the value and replaced
   * by every write; metadata values may be any text (non-ASCII travels RFC 8187-encoded).
   * @throws {PreconditionFailedError} when the condition was not met.
   *
   * @example
   * await storage.set('photos/a.jpg', bytes, { contentType: 'image/jpeg', metadata: { camera: 'X100', city: 'København' } });
   */
  async set(key: string, value: StorageValue, options?: TypeOrOptions): Promise<SetResult> {
    return this.upload(key, bodyFromValue(value), normalize(options));
  }

  /** Whether a value exists at `key`. */
  async exists(key: string, options?: TypeOrOptions): Promise<boolean> {
    const call = normalize(options);
    return this.transport.send(
      { method: 'HEAD', url: this.objectPath(Routes.get, key, call), signal: call.signal, acceptStatus: [404] },
      async (response) => {
        // No route is no answer: a base URL without /storage/v1 must not read as "no such key".
        if (response.headers[Headers.errorCode] === 'RouteNotFound') throw await readErrorResponse(response);
        await response.body.dump();
        return response.statusCode === 200;
      },
    );
  }

  /**
   * Everything stored about the value at `key` besides its bytes (one HEAD request): size, ETag,
   * sha256, content type, modification and expiry time, user metadata (decoded), Cache-Control
   * and Content-Disposition. @throws {NotFoundError}
   *
   * @example
   * const { size, metadata } = await storage.info('photos/a.jpg');
   * console.log(size, metadata.camera);
   */
  async info(key: string, options?: TypeOrOptions): Promise<ObjectInfo> {
    const call = normalize(options);
    return this.transport.send({ method: 'HEAD', url: this.objectPath(Routes.get, key, call), signal: call.signal }, async (response) => {
      await response.body.dump();
      return objectInfoFromHeaders(response.headers);
    });
  }

  /**
   * Deletes the value at `key`.
   * @throws {NotFoundError} when there is none (but not when a retry follows a lost response
   * to a delete that did succeed).
   */
  async delete(key: string, options?: TypeOrOptions): Promise<void> {
    const call = normalize(options);
    const url = `/${typeSegment(call)}/${keySegment(key)}`;
    await this.transport.send({ method: 'DELETE', url, signal: call.signal, acceptStatus: [404] }, async (response) => {
      const text = await response.body.text();
      if (response.statusCode !== 404) return;
      const body = text ? (JSON.parse(text) as { message?: string; code?: string; requestId?: string }) : {};
      // After a lost response the key may be gone by that attempt's own delete; a missing bucket is not.
      if (response.earlierAttemptMayHaveApplied && body.code !== 'NoSuchBucket') return;
      throw errorFromResponse(404, { message: `No value at ${key}`, ...body });
    });
  }

  /**
   * Up to 1000 keys that start with `prefix`, in UTF-8 byte order. Use {@link iterList} for all.
   *
   * With `delimiter` (a folder listing) or `details` (each object described as a HEAD would),
   * one page of the server's `{ objects, folders }` answer: up to 1000 entries of both together.
   *
   * @example
   * await storage.list('photos/');                                  // ['photos/2025/a.jpg', …]
   * await storage.list('photos/', { delimiter: '/' });              // { objects: [...], folders: ['photos/2025/'] }
   * (await storage.list('photos/', { details: true })).objects[0];  // { key, size, etag, metadata, … }
   */
  async list(prefix?: string, options?: BucketName | (CallOptions & { delimiter?: undefined; details?: false })): Promise<string[]>;
  async list(prefix: string | undefined, options: ListOptions & { details: true }): Promise<FolderListing<ObjectDetails>>;
  async list(prefix: string | undefined, options: ListOptions & { delimiter: string }): Promise<FolderListing<string>>;
  async list(prefix?: string, options?: TypeOrOptions | ListOptions): Promise<string[] | FolderListing>;
  async list(prefix?: string, options?: TypeOrOptions | ListOptions): Promise<string[] | FolderListing> {
    const call = normalize(options);
    return (await fetchListPage<string[] | FolderListing>(this.transport, listQuery(prefix, call), listCall(call), undefined)).items;
  }

  /**
   * One page of a folder or detailed listing, and the token of the next (`next`, undefined at
   * the end): for a UI that shows a page at a time. `limit`: at most this many entries (1-1000).
   *
   * @example
   * const first = await storage.listPage('photos/', { delimiter: '/', details: true, limit: 200 });
   * const second = first.next && (await storage.listPage('photos/', { delimiter: '/', details: true, limit: 200, next: first.next }));
   */
  async listPage(
    prefix: string | undefined,
    options: ListOptions & { details: true; limit?: number; next?: string | undefined },
  ): Promise<FolderListing<ObjectDetails> & { next: string | undefined }>;
  async listPage(
    prefix: string | undefined,
    options: ListOptions & { delimiter: string; limit?: number; next?: string | undefined },
  ): Promise<FolderListing<string> & { next: string | undefined }>;
  async listPage(
    prefix: string | undefined,
    options: ListOptions & { limit?: number; next?: string | undefined },
  ): Promise<FolderListing & { next: string | undefined }> {
    if (!isShaped(options)) throw new TypeError('listPage lists folders or details: give delimiter or details');
    const query = listQuery(prefix, options);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    const page = await fetchListPage<FolderListing>(this.transport, query, listCall(options), options.next);
    return { ...page.items, next: page.next };
  }

  /**
   * Every key that starts with `prefix`, page by page.
   *
   * With `delimiter` or `details`, every entry of the folder or detailed listing across all
   * pages, in UTF-8 byte order: `{ kind: 'object', key, details? }` and `{ kind: 'folder', prefix }`.
   *
   * @example
   * for await (const key of storage.iterList('reports/')) console.log(key);
   * for await (const entry of storage.iterList('photos/', { delimiter: '/' }))
   *   console.log(entry.kind === 'folder' ? `${entry.prefix} (folder)` : entry.key);
   */
  iterList(prefix?: string, options?: BucketName | (CallOptions & { delimiter?: undefined; details?: false })): AsyncGenerator<string>;
  iterList(prefix: string | undefined, options: ListOptions & { details: true }): AsyncGenerator<DetailedListEntry>;
  iterList(prefix: string | undefined, options: ListOptions & { delimiter: string }): AsyncGenerator<ListEntry>;
  iterList(prefix?: string, options?: TypeOrOptions | ListOptions): AsyncGenerator<string | ListEntry>;
  async *iterList(prefix?: string, options?: TypeOrOptions | ListOptions): AsyncGenerator<string | ListEntry> {
    const call = normalize(options);
    const shaped = isShaped(call);
    const query = listQuery(prefix, call);
    let next: string | undefined;
    do {
      const page = await fetchListPage<string[] | FolderListing>(this.transport, query, listCall(call), next);
      if (shaped) yield* entriesOf(page.items as FolderListing);
      else yield* page.items as string[];
      next = page.next;
    } while (next);
  }

  /**
   * Stores a `File` or `Blob` at `key`, in any runtime. From 8 MiB (`resumableThreshold`) it goes
   * up through an upload URL in resumable chunks (`chunkSize`), as {@link uploadBlob} sends them:
   * a dropped connection costs at most the chunk in flight, and the server checks the Blob's
   * sha256 before the value appears. Smaller Blobs are one `set`, retried whole.
   *
   * @example
   * const input = document.querySelector('input[type=file]');
   * await storage.setBlob(`uploads/${input.files[0].name}`, input.files[0], { onProgress: (sent, total) => console.log(sent, total) });
   */
  async setBlob(key: string, blob: Blob, options?: TypeOrOptions): Promise<SetResult> {
    const call = normalize(options);
    if (blob.size < this.resumableThreshold) return this.upload(key, bodyFromValue(blob), call);
    const uploadUrl = await this.getUploadUrl(key, {
      ...call,
      contentType: call.contentType ?? (blob.type || undefined),
      expiresIn: undefined,
    });
    return uploadBlobThrough(this.transport, uploadUrl, blob, {
      chunkSize: this.chunkSize,
      signal: call.signal,
      onProgress: call.onProgress,
      ifMatch: call.ifMatch,
      ifNoneMatch: call.ifNoneMatch,
      metadata: call.metadata,
      cacheControl: call.cacheControl,
      contentDisposition: call.contentDisposition,
      sha256: this.sha256,
    });
  }

  /**
   * A URL that downloads `key` without credentials until it expires (default 1 hour). With
   * `filename`, the download is offered as that file (`Content-Disposition: attachment`, any
   * text; the name is part of the signature). @throws {NotFoundError}
   *
   * @example
   * const url = await storage.getSignedUrl('reports/q1.csv', { expiresIn: 900, filename: 'Q1 résumé.csv' });
   */
  async getSignedUrl(key: string, options?: TypeOrOptions): Promise<string> {
    const call = normalize(options);
    const query: Record<string, string> = {};
    if (call.expiresIn) query.expires_in = String(call.expiresIn);
    if (call.filename !== undefined) query.filename = call.filename;
    return this.getText(this.objectPath(Routes.signedUrl, key, call, query), call);
  }

  /** A URL that accepts a PUT of the value for `key` without credentials (default 7 days). */
  async getUploadUrl(key: string, options?: TypeOrOptions): Promise<string> {
    const call = normalize(options);
    const query: Record<string, string> = {};
    if (call.contentType) query.content_type = call.contentType;
    if (call.expiresIn) query.expires_in = String(call.expiresIn);
    return this.getText(this.objectPath(Routes.uploadUrl, key, call, query), call);
  }

  /**
   * What the credentials' user stores and may store: bytes and objects over every storage type,
   * the byte quota and the rate limit. A Stowage extension (`GET /storage/v1/usage`).
   *
   * With `prefix` (`''` for everything) it counts the visible objects and bytes under it instead
   * (`GET /storage/v1/{type}/usage`): in `storageType` only, or in each type with the sum (one
   * request per type, so the three counts may be a few writes apart). A bucket's name as
   * `storageType` counts in that bucket.
   *
   * @example
   * const { bytes, quotaBytes } = await storage.usage();
   * if (quotaBytes !== null) console.log(`${((100 * bytes) / quotaBytes).toFixed(1)}% of the quota used`);
   * const { objects, types } = await storage.usage({ prefix: 'photos/' }); // types.data.bytes, types.tmp…
   * await storage.usage({ prefix: 'photos/', storageType: 'data' });      // { type, prefix, objects, bytes }
   */
  async usage(options?: { prefix?: undefined; storageType?: undefined; signal?: AbortSignal }): Promise<UsageReport>;
  async usage(options: UsageOptions & { storageType: BucketName }): Promise<PrefixUsage>;
  async usage(options: UsageOptions & { prefix: string; storageType?: undefined }): Promise<PrefixUsageSummary>;
  async usage(options?: UsageOptions): Promise<UsageReport | PrefixUsage | PrefixUsageSummary>;
  async usage(options: UsageOptions = {}): Promise<UsageReport | PrefixUsage | PrefixUsageSummary> {
    const { prefix, storageType, signal } = options;
    if (storageType !== undefined) return prefixUsage(this.transport, prefix ?? '', { storageType, signal });
    if (prefix !== undefined) return prefixUsageOfEveryType(this.transport, prefix, signal);
    return this.transport.send({ method: 'GET', url: USAGE_PATH, signal }, async (response) => {
      return (await response.body.json()) as UsageReport;
    });
  }

  /**
   * Deletes every key under `prefix` in one request (`POST {type}/delete_prefix`). An empty
   * prefix deletes every key of the storage type and needs `all: true`. Keys written under the
   * prefix while it runs may survive it. Retried after a lost response (running it again only
   * finishes the job); the counts are then those of the attempt that answered.
   * @throws {BadRequestError} `ConfirmationRequired` for `''` without `all`.
   *
   * @example
   * const { deleted, bytes } = await storage.deletePrefix('tmp/run-42/');
   * await storage.deletePrefix('', { storageType: 'tmp', all: true }); // empties tmp
   */
  async deletePrefix(
    prefix: string,
    options: { storageType?: BucketName; all?: boolean; signal?: AbortSignal } = {},
  ): Promise<DeletePrefixResult> {
    return deletePrefix(this.transport, prefix, options.all === true, {
      storageType: options.storageType ?? 'data',
      signal: options.signal,
    });
  }

  /**
   * Makes an earlier version of `key` current again (`POST {type}/restore`, a Stowage extension):
   * `versionId` (from {@link versions}), or the newest noncurrent one. What is current becomes a
   * version in turn. Needs retention on the bucket (`STOWAGE_RETENTION`, or its `retentionDays`).
   * @throws {NotFoundError} `NoSuchVersion` when no such version is kept.
   *
   * @example
   * await storage.delete('report.csv');
   * await storage.restore('report.csv'); // back
   */
  async restore(
    key: string,
    options: { versionId?: string; storageType?: BucketName; signal?: AbortSignal } = {},
  ): Promise<RestoreKeyResult> {
    return restoreKey(this.transport, key, options.versionId, { storageType: options.storageType ?? 'data', signal: options.signal });
  }

  /**
   * Puts every key under `prefix` back as it was at `at` (`POST {type}/restore`, a Stowage
   * extension), within the retention window: keys that existed then get that value back, keys made
   * since are deleted (kept as versions, so this too can be undone). Running it again converges.
   *
   * @example
   * await storage.deletePrefix('reports/');
   * await storage.restorePrefix('reports/', { at: new Date(Date.now() - 60_000) }); // as a minute ago
   */
  async restorePrefix(
    prefix: string,
    options: { at: Date | string; storageType?: BucketName; signal?: AbortSignal },
  ): Promise<RestorePrefixResult> {
    return restorePrefix(this.transport, prefix, options.at, { storageType: options.storageType ?? 'data', signal: options.signal });
  }

  /**
   * Every version kept under `prefix` (`GET {type}/versions`, all pages): current values,
   * noncurrent ones (overwritten, deleted, moved away) and delete markers, by key, newest first.
   *
   * @example
   * const gone = (await storage.versions('reports/')).filter((v) => v.isDeleteMarker);
   */
  async versions(prefix = '', options: { storageType?: BucketName; limit?: number; signal?: AbortSignal } = {}): Promise<VersionEntry[]> {
    return listVersions(this.transport, prefix, {
      storageType: options.storageType ?? 'data',
      limit: options.limit,
      signal: options.signal,
    });
  }

  /**
   * One page of {@link versions}: up to `limit` versions after the page token `next`, and the
   * token of the page after (`next: null` at the end).
   */
  async versionsPage(
    prefix = '',
    options: { storageType?: BucketName; limit?: number; next?: string | undefined; signal?: AbortSignal } = {},
  ): Promise<VersionsPage> {
    return versionsPage(this.transport, prefix, options.next, {
      storageType: options.storageType ?? 'data',
      limit: options.limit,
      signal: options.signal,
    });
  }

  /**
   * Deletes many keys (`POST {type}/delete_many`, 1000 per request), reporting each key's
   * outcome in order: `{ key, deleted: true }` or `{ key, deleted: false, code, message }`
   * (`NoSuchKey`, `InvalidKey`). A missing key is an outcome, not an error.
   *
   * @example
   * const { results } = await storage.deleteMany(['a', 'b', 'never-was']);
   * const missing = results.filter((r) => !r.deleted).map((r) => r.key); // ['never-was']
   */
  async deleteMany(keys: readonly string[], options: { storageType?: BucketName; signal?: AbortSignal } = {}): Promise<DeleteManyResult> {
    return deleteMany(this.transport, keys, { storageType: options.storageType ?? 'data', signal: options.signal });
  }

  /**
   * Copies on the server, without moving bytes: a key (a string is a key in `data`, or
   * `{ type, key }`) to a key, or every key under `{ type, prefix }` to the same keys under
   * another prefix. The copy keeps content type, metadata and expiry. An existing destination key
   * is `ConflictError` (`DestinationExists`), or skipped under a prefix, unless `overwrite`.
   * Only a copy with `overwrite` is retried after a lost response: without it, the repeat would
   * meet its own first copy.
   *
   * @example
   * await storage.copy('report.csv', { type: 'result', key: 'archive/report.csv' });
   * const { objects, skipped } = await storage.copy({ prefix: 'drafts/' }, { prefix: 'backup/drafts/' });
   */
  async copy(source: KeyLocation, destination: KeyLocation, options?: CopyOptions): Promise<CopyKeyResult>;
  async copy(source: PrefixLocation, destination: PrefixLocation, options?: CopyOptions): Promise<CopyPrefixResult>;
  async copy(
    source: KeyLocation | PrefixLocation,
    destination: KeyLocation | PrefixLocation,
    options: CopyOptions = {},
  ): Promise<CopyKeyResult | CopyPrefixResult> {
    return copyOrMove(this.transport, 'copy', source, destination, options);
  }

  /**
   * Moves on the server in one transaction per key: the destination appears as the source goes,
   * with no moment when both or neither are visible. Locations and conflicts as in
   * {@link copy}. A move is not retried once sent (after a lost response its repeat would find
   * the source gone): on a `ConnectionError`, look at the source and destination before retrying.
   *
   * @example
   * await storage.move('inbox/a.json', 'done/a.json');
   * await storage.move({ prefix: 'drafts/' }, { prefix: 'published/' }, { overwrite: true });
   */
  async move(source: KeyLocation, destination: KeyLocation, options?: CopyOptions): Promise<CopyKeyResult>;
  async move(source: PrefixLocation, destination: PrefixLocation, options?: CopyOptions): Promise<CopyPrefixResult>;
  async move(
    source: KeyLocation | PrefixLocation,
    destination: KeyLocation | PrefixLocation,
    options: CopyOptions = {},
  ): Promise<CopyKeyResult | CopyPrefixResult> {
    return copyOrMove(this.transport, 'move', source, destination, options);
  }

  /** Closes the connection pool. */
  close(): Promise<void> {
    return this.transport.close();
  }

  /** @internal */
  protected async upload(key: string, body: BodySource, call: CallOptions): Promise<SetResult> {
    const headers: Record<string, string> = {
      'content-type': call.contentType ?? 'application/octet-stream',
      ...conditionHeaders(call),
      ...attributeHeaders(call),
    };
    const conditional = call.ifMatch !== undefined || call.ifNoneMatch === true;
    // Only a replayable body is retried, so only then can a 412 be an earlier attempt's own write.
    const hashed = conditional && body.replayable ? hashWhileSending(body, this.sha256) : undefined;
    const sent = hashed?.body ?? body;
    const source = call.onProgress ? withProgress(sent, call.onProgress) : sent;
    return this.transport.send(
      {
        method: 'PUT',
        url: this.objectPath(Routes.set, key, call),
        headers,
        body: source,
        signal: call.signal,
        acceptStatus: hashed ? [412] : undefined,
      },
      async (response) => {
        if (response.statusCode !== 412) return (await response.body.json()) as SetResult;
        return settlePreconditionFailed({
          key,
          response,
          sentSha256: async () => hashed?.sha256(),
          lookup: () => this.info(key, { storageType: call.storageType, signal: call.signal }).catch(undefinedIfNotFound),
        });
      },
    );
  }

  private getText(url: string, call: CallOptions): Promise<string> {
    return this.transport.send({ method: 'GET', url, signal: call.signal }, (response) => response.body.text());
  }

  /** @internal */
  protected objectPath(route: string, key: string, call: CallOptions, query?: Record<string, string>): string {
    const path = `/${typeSegment(call)}/${route}/${keySegment(key)}`;
    const search = query ? new URLSearchParams(query).toString() : '';
    return search ? `${path}?${search}` : path;
  }

  /** A download's chunks, in the client's errors, its length checked (and progress reported) as it streams. @internal */
  protected guardedDownload(response: TransportResponse, key: string, call: CallOptions): AsyncGenerator<Uint8Array> {
    const expected = contentLength(response);
    const onShort = (received: number) => this.shortBody(key, received, expected);
    return countBytes(withClientErrors(response.body), { total: expected, onProgress: call.onProgress, onShort });
  }

  private shortBody(key: string, received: number, expected: number | undefined): ConnectionError {
    return new ConnectionError(`Download of ${key} ended after ${received} of ${expected} bytes`, { code: 'ShortBody' });
  }
}

function listCall(call: CallOptions): { storageType: BucketName; signal: AbortSignal | undefined } {
  return { storageType: call.storageType ?? 'data', signal: call.signal };
}

/** The storage type or bucket of a call as its path segment (`data` by default). */
export function typeSegment(call: CallOptions): string {
  return bucketSegment(call.storageType ?? 'data');
}

function contentLength(response: TransportResponse): number | undefined {
  const header = response.headers['content-length'];
  return typeof header === 'string' ? Number(header) : undefined;
}

/**
 * The key as one path segment, after the server's own key rules: an illegal key is refused
 * before any request, with the reason, instead of a URIError (lone surrogate) or a round trip.
 */
function keySegment(key: string): string {
  const problem = typeof key === 'string' ? explainInvalidKey(key) : `key must be a string, not ${typeof key}`;
  if (problem !== undefined) throw new BadRequestError(`Invalid key: ${problem}`, { code: 'InvalidKey' });
  return encodeKey(key);
}

export function conditionHeaders(call: CallOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (call.ifMatch !== undefined) headers['if-match'] = call.ifMatch;
  if (call.ifNoneMatch) headers['if-none-match'] = '*';
  return headers;
}

function withProgress(body: BodySource, onProgress: (bytes: number, total: number | undefined) => void): BodySource {
  return {
    replayable: body.replayable,
    length: body.length,
    create: () => {
      const created = body.create();
      // Whole values go to the transport at once (a browser sends no streamed body over HTTP/1.1).
      if (typeof created === 'string' || created instanceof Uint8Array || created instanceof Blob) {
        onProgress(body.length ?? 0, body.length);
        return created;
      }
      return countBytes(chunksOf(created), { total: body.length, onProgress });
    },
  };
}

function undefinedIfNotFound(error: unknown): undefined {
  if (error instanceof NotFoundError) return undefined;
  throw error;
}

/** Re-throws socket and timeout errors of a streamed body as the client's ConnectionError / TimeoutError. */
async function* withClientErrors(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } catch (error) {
    throw classifyNetworkError(error)?.error ?? error;
  }
}
