/**
 * The wire contract of storage API v1, shared by the server and the client so the two cannot
 * drift: paths, header names, limits, key rules and the error registry.
 *
 * @module
 */

/** Path of the storage API below the server's origin. */
export const API_BASE_PATH = '/storage/v1';

/** Path of the token endpoint (the Python `Auth` posts to `{domain}/token` with domain `…/auth`). */
export const AUTH_TOKEN_PATH = '/auth/token';

/** The storage namespaces. `tmp` objects expire; `data` and `result` last until deleted. */
export const STORAGE_TYPES = ['data', 'tmp', 'result'] as const;

/** One of {@link STORAGE_TYPES}. */
export type StorageType = (typeof STORAGE_TYPES)[number];

/**
 * Where objects are: one of the caller's built-in {@link STORAGE_TYPES}, or a named bucket (S3
 * naming rules; one namespace for every user), addressed like a storage type in every path.
 */
export type BucketName = StorageType | (string & {});

/** Longest key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/** The sha256 of no bytes: an empty value's (its ETag, quoted), and SigV4's hash of an empty payload. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Most keys in one list page. */
export const MAX_LIST_LIMIT = 1000;

/** Header names, lower-case as Node reports them. */
export const Headers = {
  /** Paging token: a response header when more keys remain, a request header to get them. */
  next: 'x-next',
  /** Sent by the Python client on every call; the server logs it as the request id. */
  requestGroup: 'x-request-group',
  /** The id the server assigned to a request, echoed on every response. */
  requestId: 'x-request-id',
  /** The code of an error answer ({@link ERRORS}), also in its JSON body: a HEAD answer has none to carry it. */
  errorCode: 'x-stowage-error-code',
  /** Hex sha256 of the stored bytes. */
  sha256: 'x-stowage-sha256',
  /** The storage type of the object served. */
  storageType: 'x-stowage-storage-type',
  /** When the object expires, as an HTTP date (absent when it never does). */
  expiresAt: 'x-stowage-expires-at',
  /** Seconds until the object expires (HEAD/GET), absent when it never does. */
  ttl: 'x-stowage-ttl',
  /** Client attempt counter, 1 for the first try. */
  attempt: 'x-stowage-attempt',
  /** Prefix of user metadata headers: `x-stowage-meta-NAME: VALUE` (see {@link METADATA_LIMITS}). */
  metaPrefix: 'x-stowage-meta-',
} as const;

/** Route segments of the storage API, below `{base}/{type}/`. */
export const Routes = {
  get: 'get',
  list: 'list',
  set: 'set',
  signedUrl: 'get_signed_url',
  uploadUrl: 'new_resumable_url',
  /** `POST {type}/delete_prefix?prefix=P` (a Stowage extension). */
  deletePrefix: 'delete_prefix',
  /** `POST {type}/delete_many` with `{"keys": [...]}` (a Stowage extension). */
  deleteMany: 'delete_many',
  /** `GET {type}/usage?prefix=P` (a Stowage extension). */
  usage: 'usage',
  /** `POST {type}/restore` with `{key, versionId?}` or `{prefix, at}` (a Stowage extension). */
  restore: 'restore',
  /** `GET {type}/versions?prefix=P` (a Stowage extension). */
  versions: 'versions',
} as const;

/** Paths of server-side copy and move below `{base}/` (Stowage extensions). */
export const COPY_PATH = '/copy';
export const MOVE_PATH = '/move';

/** Most keys in one `delete_many` request. */
export const MAX_DELETE_MANY_KEYS = 1000;

/** Bounds on what an object may carry besides its bytes. */
export const METADATA_LIMITS = {
  /** Longest metadata name (after `x-stowage-meta-`): lower-case letters, digits, `-` and `_`. */
  nameBytes: 64,
  /** Names and values of all user metadata together, in UTF-8 bytes (as S3: 2 KiB). */
  totalBytes: 2048,
  /** Longest stored `Cache-Control` or `Content-Disposition`. */
  headerBytes: 1024,
} as const;

/** One version of a key in `GET {type}/versions`: its current value, a noncurrent one, or a delete marker. */
export interface VersionEntry {
  readonly key: string;
  /** 'null' for a value written before versions had ids. */
  readonly versionId: string;
  readonly current: boolean;
  /** A delete marker records a delete; it has no value. */
  readonly isDeleteMarker: boolean;
  readonly size: number;
  readonly sha256: string;
  readonly lastModified: string;
  /** When it became current (a delete marker: when the key was deleted). */
  readonly since: string;
  /** When it stopped being current (overwritten, deleted, moved away); null for the current one. */
  readonly deletedAt: string | null;
  /** When the server removes it for good; null for the current one. */
  readonly purgeAfter: string | null;
}

/** A page of `GET {type}/versions`: by key, newest first; `next` is the X-NEXT token of the next page. */
export interface VersionsPage {
  readonly versions: VersionEntry[];
  readonly next: string | null;
}

/** The answer of `POST {type}/restore` for a key: the current object after the restore. */
export interface RestoreKeyResult {
  readonly key: string;
  readonly versionId: string | null;
  readonly size: number;
  readonly etag: string;
  readonly sha256: string;
}

/** The answer of `POST {type}/restore` for a prefix at a time. */
export interface RestorePrefixResult {
  readonly prefix: string;
  readonly at: string;
  /** Keys given back the value they had then. */
  readonly restored: number;
  /** Keys that did not exist then, deleted (kept as versions). */
  readonly deleted: number;
  /** Keys already as they were. */
  readonly unchanged: number;
  /** Keys left alone: not allowed, changed meanwhile, or their version purged meanwhile. */
  readonly skipped: number;
}

/** The answer of `POST {type}/delete_prefix`: what was deleted. */
export interface DeletePrefixResult {
  readonly deleted: number;
  readonly bytes: number;
}

/** One key's outcome in a `delete_many` answer, in request order. */
export type DeleteManyItem =
  | { readonly key: string; readonly deleted: true }
  | { readonly key: string; readonly deleted: false; readonly code: string; readonly message: string };

/** The answer of `POST {type}/delete_many`. */
export interface DeleteManyResult {
  readonly deleted: number;
  readonly bytes: number;
  readonly results: DeleteManyItem[];
}

/** The answer of `GET {type}/usage?prefix=P`: visible objects of one type under a prefix. */
export interface PrefixUsage {
  readonly type: BucketName;
  readonly prefix: string;
  readonly objects: number;
  readonly bytes: number;
}

/** One side of a copy or move: a key, or every key under a prefix. */
export type CopyEndpoint = { readonly type: BucketName; readonly key: string } | { readonly type: BucketName; readonly prefix: string };

/** The body of `POST /copy` and `POST /move`. */
export interface CopyRequest {
  readonly source: CopyEndpoint;
  readonly destination: CopyEndpoint;
  /** Replace existing destination keys (default false: 409 DestinationExists, or skipped for a prefix). */
  readonly overwrite?: boolean;
}

/** The answer of a single-key copy or move: the destination object. */
export interface CopyKeyResult {
  readonly type: BucketName;
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly sha256: string;
}

/** The answer of a prefix copy or move. */
export interface CopyPrefixResult {
  /** Keys copied or moved, and their bytes. */
  readonly objects: number;
  readonly bytes: number;
  /** Source keys left alone because the destination key existed (and `overwrite` was not set). */
  readonly skipped: number;
  /** The first (up to 1000) of those keys. */
  readonly skippedKeys: string[];
}

/** One object of a detailed listing (`details=true`): what a HEAD would say. */
export interface ObjectDetails {
  readonly key: string;
  readonly size: number;
  /** Quoted strong ETag (the sha256). */
  readonly etag: string;
  readonly sha256: string;
  /** ISO 8601. */
  readonly lastModified: string;
  readonly contentType: string;
  /** ISO 8601, or null when the object never expires. */
  readonly expiresAt: string | null;
  /** User metadata (names without the `x-stowage-meta-` prefix), values decoded. */
  readonly metadata: Record<string, string>;
  readonly cacheControl: string | null;
  readonly contentDisposition: string | null;
}

/**
 * The answer of a listing with `delimiter` or `details=true` (a plain listing stays a JSON array
 * of keys): keys (or their details) and, with a delimiter, the sub-prefixes one level down.
 * Both are in UTF-8 byte order and together hold at most `limit` entries.
 */
export interface FolderListing<T extends string | ObjectDetails = string | ObjectDetails> {
  readonly objects: T[];
  readonly folders: string[];
}

/** Path of the usage extension below `{base}/`: what the caller stores and may store. */
export const USAGE_PATH = '/usage';

/** The answer of `GET {base}/usage`. */
export interface UsageReport {
  /** The user the credentials act as. */
  readonly tenant: string;
  /** Bytes stored, in every storage type (expired `tmp` objects until the sweeper removes them). */
  readonly bytes: number;
  readonly objects: number;
  /** Bytes held by resumable uploads not yet complete; they count against the quota too. */
  readonly pendingUploadBytes: number;
  /** Most bytes the user may store; null when unlimited. */
  readonly quotaBytes: number | null;
  /**
   * Bytes of noncurrent versions kept for the retention window (overwritten, deleted, moved
   * values). Not counted in `bytes` nor against the quota.
   */
  readonly retainedBytes: number;
  /** Requests per second and burst allowed to the user; null when unlimited. */
  readonly rateLimit: { readonly requestsPerSecond: number; readonly burst: number } | null;
}

/** Top-level path segments of URLs the server hands out, below `{base}/`. */
export const UrlKinds = {
  signedDownload: 'signed',
  upload: 'upload',
} as const;

/** Path of named buckets below `{base}`: `GET` lists, `POST` creates, `{name}` reads, changes, deletes. */
export const BUCKETS_PATH = '/buckets';

/** The caller's own API keys: `GET`, `POST`, and `DELETE /keys/{clientId}` (Stowage extensions). */
export const KEYS_PATH = '/keys';

/**
 * What a scoped API key may do, narrower than its user: only read, only in one bucket (or storage
 * type), only under one prefix (a folder, ending in `/`). Each narrows the others.
 */
export interface ApiKeyScope {
  readonly readOnly: boolean;
  readonly bucket?: string;
  readonly prefix?: string;
}

/** One of the caller's API keys, as `GET /keys` lists it: never its secret. */
export interface ApiKeyInfo {
  readonly clientId: string;
  readonly name: string | null;
  /** null: the key acts with its user's own rights. */
  readonly scope: ApiKeyScope | null;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** When it was revoked (milliseconds since the epoch), or null. */
  readonly revokedAt: number | null;
}

/** A new key, as `POST /keys` answers: the secret is shown this once. */
export interface CreatedApiKey extends ApiKeyInfo {
  readonly clientSecret: string;
}

/** S3's permissions: what a grant lets its grantee do (docs/concepts.md). */
export type GrantPermission = 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP' | 'FULL_CONTROL';

/** Whom a grant names: a user by id, every authenticated user, or everyone (anonymous too). */
export type GrantGrantee = { readonly user: string } | { readonly group: 'authenticated' | 'everyone' };

/** A grant of a bucket (`prefix` ''), or of every key under a prefix. */
export interface BucketGrant {
  readonly grantee: GrantGrantee;
  readonly permission: GrantPermission;
  readonly prefix: string;
}

/** A default expiry of keys written under a prefix (S3 lifecycle `Expiration` in days). */
export interface BucketExpiryRule {
  readonly id: string;
  readonly prefix: string;
  readonly days: number;
  readonly enabled: boolean;
  /**
   * Retention rules only (S3's NewerNoncurrentVersions): a version past `days` goes by this rule
   * only once this many newer noncurrent versions of its key exist; absent: at once.
   */
  readonly newerVersions?: number;
}

/** How long a key under retention rules keeps what is replaced or deleted there. */
export interface KeptVersions {
  readonly days: number;
  /** That many of the key's newest noncurrent versions are kept past `days`, until newer ones replace them (NewerNoncurrentVersions). */
  readonly newerVersions?: number;
}

/** One entry of `GET /buckets`: a bucket the caller owns, or one shared with them. */
export interface BucketSummary {
  readonly name: string;
  readonly owner: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly access: 'owner' | 'shared';
}

/** The answer of `GET /buckets`: a page in name order; `next` is the `after` of the next page. */
export interface BucketList {
  readonly buckets: BucketSummary[];
  readonly next: string | null;
}

/** `PublicAccessBlock`: what keeps a bucket from being made public (S3's four switches). */
export interface PublicAccessBlockSettings {
  readonly blockPublicAcls: boolean;
  readonly ignorePublicAcls: boolean;
  readonly blockPublicPolicy: boolean;
  readonly restrictPublicBuckets: boolean;
}

/** `GET /buckets/{name}`: a bucket and its settings (for its owner, or a holder of READ_ACP). */
export interface BucketInfo extends Omit<BucketSummary, 'access'> {
  readonly quotaBytes: number | null;
  readonly bytes: number;
  readonly objects: number;
  /** Whether anyone without credentials can read something in it (a public grant or policy in force). */
  readonly public: boolean;
  readonly grants: BucketGrant[];
  readonly publicAccessBlock: PublicAccessBlockSettings | null;
  readonly expiry: BucketExpiryRule[];
  /** The bucket policy document (S3 JSON), or null. */
  readonly policy: string | null;
  /** Days replaced values are kept as versions; null: the server default (`STOWAGE_RETENTION`). */
  readonly retentionDays: number | null;
  /**
   * Lifecycle rules (S3 NoncurrentVersionExpiration) for how long replaced values are kept: a
   * rule for a prefix keeps those of its keys for days of their own instead of `retentionDays`,
   * bounded by the rules for every key (prefix ''), which set `retentionDays` themselves. See
   * prefixRetentionDays.
   */
  readonly retentionRules: BucketExpiryRule[];
  /** Bytes of its noncurrent versions (not counted in `bytes` nor against the quota). */
  readonly retainedBytes: number;
}

/** The body of `POST /buckets`. */
export interface CreateBucketRequest {
  readonly name: string;
  readonly quotaBytes?: number | null;
  /** Grants to give from the start. */
  readonly grants?: BucketGrant[];
  /** Days after which every key written expires (a lifecycle rule for the prefix ''). */
  readonly expiryDays?: number | null;
  /** Days replaced values are kept as versions (0: none); null: the server default. */
  readonly retentionDays?: number | null;
}

/** The body of `POST /buckets/{name}/share`: one grant to add (an existing equal grant stays one). */
export type ShareRequest = BucketGrant;

/** The body of `POST /buckets/{name}/unshare`: removes the grantee's grants, of one permission and/or prefix if given. */
export interface UnshareRequest {
  readonly grantee: GrantGrantee;
  readonly permission?: GrantPermission;
  readonly prefix?: string;
}

/** The body of `PATCH /buckets/{name}`: the settings to change; those left out stay. */
export interface BucketSettingsChange {
  readonly quotaBytes?: number | null;
  readonly expiryDays?: number | null;
  readonly publicAccessBlock?: PublicAccessBlockSettings | null;
  /** Days replaced values are kept as versions (0: none); null: the server default. */
  readonly retentionDays?: number | null;
}

/** Every error code the server can send, with its HTTP status and a default message. */
export const ERRORS = {
  NoSuchKey: { status: 404, message: 'No object exists at this key' },
  NoSuchVersion: { status: 404, message: 'No such version of this key is kept (never was, or purged after the retention window)' },
  RouteNotFound: { status: 404, message: 'No such route' },
  InvalidStorageType: { status: 400, message: 'Storage type must be one of data, tmp, result' },
  InvalidKey: { status: 400, message: 'Invalid key' },
  InvalidPageToken: { status: 400, message: 'The X-NEXT paging token is not valid for this listing' },
  InvalidArgument: { status: 400, message: 'Invalid request argument' },
  InvalidRequestBody: { status: 400, message: 'The request body is not valid' },
  InvalidContentType: { status: 400, message: 'The content type is not a valid media type (RFC 9110 type/subtype;params)' },
  RequestTimeout: { status: 408, message: 'The request body stopped arriving; the upload was abandoned' },
  MissingToken: { status: 401, message: 'An Authorization: Bearer <token> header is required' },
  InvalidToken: { status: 401, message: 'The bearer token is not valid' },
  InvalidUser: { status: 401, message: 'The user id is not valid (1-1024 bytes of Unicode without control characters)' },
  TokenExpired: { status: 401, message: 'The bearer token has expired' },
  InvalidCredentials: { status: 401, message: 'Unknown client_id or wrong secret' },
  InvalidSignature: { status: 403, message: 'The URL signature does not match' },
  UrlExpired: { status: 403, message: 'The signed URL has expired' },
  MethodNotAllowed: { status: 405, message: 'This URL does not serve that method' },
  CorsForbidden: { status: 403, message: 'This origin may not send that request from a browser (STOWAGE_CORS_ORIGINS)' },
  NoSuchBucket: { status: 404, message: 'No bucket of that name exists' },
  NoSuchApiKey: { status: 404, message: 'You have no API key of that client id' },
  BucketAlreadyExists: { status: 409, message: 'The bucket name is taken; bucket names are one namespace for every user' },
  BucketAlreadyOwnedByYou: { status: 409, message: 'You already own a bucket of that name' },
  BucketNotEmpty: { status: 409, message: 'The bucket holds objects; delete them before the bucket' },
  InvalidBucketName: { status: 400, message: 'Bucket names are 3-63 lower-case letters, digits, dots and hyphens (S3 rules)' },
  TooManyBuckets: { status: 400, message: 'You own as many buckets as a user may' },
  AccessDenied: { status: 403, message: 'You may not do that with this bucket or object' },
  MalformedPolicy: { status: 400, message: 'The bucket policy is not valid' },
  DestinationExists: { status: 409, message: 'The destination key exists; send "overwrite": true to replace it' },
  ConfirmationRequired: { status: 400, message: 'Deleting every key of a storage type needs the all=true parameter' },
  InvalidMetadata: {
    status: 400,
    message: "Metadata must be visible ASCII or RFC 8187 (UTF-8''percent-encoded), within the size limits",
  },
  PreconditionFailed: { status: 412, message: 'The If-Match / If-None-Match condition was not met' },
  RangeNotSatisfiable: { status: 416, message: 'The requested range is outside the object' },
  InvalidRange: { status: 400, message: 'The Range header is malformed' },
  InvalidContentRange: { status: 400, message: 'The Content-Range header is malformed or disagrees with the body' },
  UploadOffsetMismatch: { status: 409, message: 'The chunk does not start where the upload stands (overlap or gap)' },
  NoSuchUpload: { status: 404, message: 'No such upload session (cancelled, completed or expired)' },
  ChecksumMismatch: { status: 400, message: 'The body does not match the checksum sent with it; nothing was stored' },
  EntityTooLarge: { status: 413, message: 'The request body exceeds the maximum object size' },
  QuotaExceeded: { status: 403, message: "The write would take the tenant's stored bytes past its quota; nothing was stored" },
  RateLimited: { status: 429, message: 'Too many requests from this tenant; retry after the Retry-After delay' },
  UnsupportedTransferEncoding: { status: 501, message: 'Only the chunked transfer coding is supported' },
  InsufficientStorage: { status: 507, message: 'The server is out of storage space; nothing was stored. Deletes still work' },
  Overloaded: { status: 503, message: 'The server is at its limit of requests in flight; retry after the Retry-After delay' },
  RequestAborted: { status: 400, message: 'The client ended the request before the body was complete' },
  IncompleteBody: { status: 400, message: 'The body is shorter than its Content-Length' },
  StorageUnavailable: {
    status: 503,
    message: 'The index database or the blob store does not answer; nothing was changed. Retry after the Retry-After delay',
  },
  ServiceUnavailable: { status: 503, message: 'The server is shutting down or overloaded; retry later' },
  InternalError: { status: 500, message: 'Internal server error' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A stable error code from {@link ERRORS}. */
export type ErrorCode = keyof typeof ERRORS;

/** The JSON body of every error response. */
export interface ErrorBody {
  code: ErrorCode | string;
  message: string;
  requestId?: string;
}

/** Whether `value` names a storage type. */
export function isStorageType(value: unknown): value is StorageType {
  return typeof value === 'string' && (STORAGE_TYPES as readonly string[]).includes(value);
}

// C0 controls, DEL and C1 controls: they break logs, terminals and HTTP header echoes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Whether `text` holds a C0 control, DEL or a C1 control (what keys, user ids and file names may not). */
export function hasControlCharacters(text: string): boolean {
  return CONTROL_CHARACTERS.test(text);
}

/**
 * The retention rules for prefixes in force, from a bucket's `retentionRules`: each enabled one
 * bounded by the enabled rules for every key (S3 honours the shortest of overlapping rules). A
 * key under some keeps what is replaced or deleted there for the shortest of theirs; other keys
 * for the bucket's window (`retentionDays`); nothing more is kept while the window is 0. Each rule
 * counts on its own, as on S3: a version goes once some rule covering its key lets it go (its
 * days passed and, with `newerVersions`, that many newer noncurrent versions of its key exist),
 * so what a key keeps for good is the fewest `newerVersions` of its rules (keptUnder). The server
 * keeps versions by this rule.
 */
export function prefixRetentionDays(rules: readonly BucketExpiryRule[]): Array<{ prefix: string } & KeptVersions> {
  const enabled = rules.filter((rule) => rule.enabled);
  const everyKey = enabled.filter((rule) => rule.prefix === '');
  return enabled.flatMap((rule) =>
    rule.prefix === '' ? [] : [{ prefix: rule.prefix, ...(keptUnder([rule, ...everyKey]) as KeptVersions) }],
  );
}

/**
 * What the keys no rule for a prefix covers keep for good (they keep the window, `retentionDays`,
 * for its days): the fewest `newerVersions` of the enabled rules for every key.
 */
export function windowNewerVersions(rules: readonly BucketExpiryRule[]): number | undefined {
  return keptUnder(rules.filter((rule) => rule.enabled && rule.prefix === ''))?.newerVersions;
}

/**
 * What the rules covering one key keep: the shortest days, and for good the fewest
 * `newerVersions` (a rule without keeps none for good); undefined for no rule.
 */
export function keptUnder(rules: readonly KeptVersions[]): KeptVersions | undefined {
  if (rules.length === 0) return undefined;
  const days = Math.min(...rules.map((rule) => rule.days));
  const counts = rules.map((rule) => rule.newerVersions);
  return counts.includes(undefined) ? { days } : { days, newerVersions: Math.min(...(counts as number[])) };
}

/**
 * Why `key` is not a legal key, or `undefined` when it is. A key is any UTF-8 string of 1 to
 * {@link MAX_KEY_BYTES} bytes without control characters; it is opaque (`a/../b` is just a key).
 */
export function explainInvalidKey(key: string): string | undefined {
  if (key.length === 0) return 'key must not be empty';
  if (hasControlCharacters(key)) return 'key must not contain control characters';
  if (!key.isWellFormed()) return 'key must be valid UTF-8 (no lone surrogates)';
  const bytes = new TextEncoder().encode(key).length;
  if (bytes > MAX_KEY_BYTES) return `key is ${bytes} bytes; the limit is ${MAX_KEY_BYTES}`;
  return undefined;
}

/**
 * Percent-encodes a key as one path segment, `/` included, so that no URL parser collapses
 * `.`/`..` segments or reads `?`, `#` and `+` specially: every legal key round-trips.
 */
export function encodeKey(key: string): string {
  return encodeURIComponent(key).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
