import path from 'node:path';
import { type FailpointName, parseFailpoints } from './failpoints.js';
import { type HostAndPort, parseHostAndPort } from './http/host-names.js';
import { parseByteSize, parseDuration } from './units.js';

/** How hard an acknowledged write is made to last. */
export type Durability = 'full' | 'process';

/** Where the index lives: SQLite in the data directory, or a shared PostgreSQL. */
export type IndexConfig =
  | { readonly kind: 'sqlite' }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema: string; readonly poolSize: number };

/** Where blobs live: files in the data directory, or an S3-compatible bucket. */
export type BlobsConfig =
  | { readonly kind: 'files' }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      /** Key prefix inside the bucket, without a trailing slash ('' for none). */
      readonly prefix: string;
      /** Endpoint of a store other than AWS (Ceph RGW, MinIO, GCS); undefined for AWS. */
      readonly endpoint: string | undefined;
      readonly region: string;
      readonly forcePathStyle: boolean;
      /** Static keys; undefined to use the AWS default credential chain. */
      readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
      /** The endpoint clients reach the store at, for redirected reads (default: `endpoint`). */
      readonly publicEndpoint: string | undefined;
    };

/**
 * How a large read may leave the bytes to something faster than this server (docs/deploy.md,
 * "Read offload"): nginx in front sending the blob file itself (X-Accel-Redirect), or the client
 * sent to a presigned URL of the S3 store. Reads of fewer than `minBytes` are always served here.
 */
export type ReadOffloadConfig =
  | { readonly kind: 'off' }
  | { readonly kind: 'nginx'; readonly minBytes: number; readonly location: string }
  | { readonly kind: 'redirect'; readonly minBytes: number; readonly ttlMs: number };

/** Everything the server reads from its environment, parsed and validated once, then frozen. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** A second port serving the S3 API at its root (`/BUCKET/KEY`); undefined: S3 under /s3 only. */
  readonly s3Port: number | undefined;
  /** Folder of the embedded backend: SQLite index, blobs, the server secret. */
  readonly dataDir: string;
  /** The index: SQLite in dataDir (default) or PostgreSQL shared by every server. */
  readonly index: IndexConfig;
  /** The blob store: files in dataDir (default) or an S3-compatible bucket. */
  readonly blobs: BlobsConfig;
  /** Longest wait for an index operation before 503 StorageUnavailable, in ms. */
  readonly storageTimeoutMs: number;
  /**
   * Longest the S3 blob store may keep one operation waiting before 503 StorageUnavailable: for
   * its answer, the S3 client's retries included, or to take or give the next bytes of a body, in ms.
   */
  readonly blobTimeoutMs: number;
  /** Blobs that nothing references are removed once older than this, in ms. */
  readonly orphanGraceMs: number;
  /** How long a replaced blob outlives its row (reads in flight finish); undefined: the store's default. */
  readonly replacedBlobGraceMs: number | undefined;
  /** Large reads handed to nginx or to the S3 store; `off` by default. */
  readonly readOffload: ReadOffloadConfig;
  /** `full`: fsync blobs, directories and the index before acknowledging (survives power loss). */
  readonly durability: Durability;
  /** HMAC secret for JWTs and URL signatures; undefined means "kept in dataDir". */
  readonly jwtSecret: string | undefined;
  /** Lifetime of a `tmp` object after its last write, in ms. */
  readonly tmpTtlMs: number;
  /**
   * How long overwritten, deleted and moved objects are kept as noncurrent versions (restorable),
   * in ms; 0: not kept. Named buckets may set their own (`retentionDays`).
   */
  readonly retentionMs: number;
  /** Largest accepted object, in bytes. */
  readonly maxObjectBytes: number;
  /** A resumable upload's long chunk is made durable every this many bytes (a cut loses at most this). */
  readonly uploadCheckpointBytes: number;
  /** Writes get 507 when they would leave less free space than this on the data dir's disk. */
  readonly minFreeBytes: number;
  /** A file of this size is kept in the data dir and released so deletes work on a full disk. */
  readonly ballastBytes: number;
  /** Default and maximum lifetime of signed download URLs, in ms. */
  readonly signedUrlTtlMs: number;
  readonly signedUrlMaxTtlMs: number;
  /** Default and maximum lifetime of upload URLs, in ms. */
  readonly uploadUrlTtlMs: number;
  readonly uploadUrlMaxTtlMs: number;
  /** Lifetime of tokens issued by POST /auth/token, in ms. */
  readonly issuedTokenTtlMs: number;
  /** Origin put in signed and upload URLs (e.g. https://storage.example.com); else from the request (http/origin.ts). */
  readonly publicUrl: string | undefined;
  /**
   * Origin put in signed download URLs instead (e.g. https://usercontent.example.net), a name of
   * its own for the same servers, so pages users store open apart from the console's origin.
   */
  readonly userContentUrl: string | undefined;
  /**
   * Without a public URL, the names (`name` on any port, `name:port` on that one) a request's Host
   * may give the URLs it gets, besides this listener's own address; others get the address.
   */
  readonly allowedHosts: readonly HostAndPort[];
  /** How often the sweeper removes expired objects, in ms. */
  readonly sweepIntervalMs: number;
  /** How long shutdown waits for in-flight requests, in ms. */
  readonly shutdownTimeoutMs: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** JSON lines (for collectors), or `pretty` lines for a person at a terminal. */
  readonly logFormat: 'json' | 'pretty';
  /** Log one line per request. */
  readonly accessLog: boolean;
  /** Honour X-Forwarded-Proto/-Host/-For (only behind a proxy that sets them). */
  readonly trustProxy: boolean;
  /** Time a client has to send its request headers, in ms. */
  readonly headersTimeoutMs: number;
  /** Time a request body may go without a byte arriving before it is abandoned (408), in ms. */
  readonly bodyIdleTimeoutMs: number;
  /** Time a response may go without a byte leaving (a client that stopped reading), in ms. */
  readonly sendIdleTimeoutMs: number;
  /** Longest a whole request (headers and body) may take, in ms; 0 for no limit. */
  readonly requestTimeoutMs: number;
  /** Idle time after which a keep-alive connection is closed, in ms. */
  readonly keepAliveTimeoutMs: number;
  /** Requests served at once; past it, new ones get 503 Overloaded at once. */
  readonly maxInFlight: number;
  /** Requests one user may have in flight; past it, 429 RateLimited. */
  readonly maxInFlightPerTenant: number;
  /** Named buckets one user may own; past it, TooManyBuckets. */
  readonly maxBucketsPerUser: number;
  /** Crash points for durability tests (STOWAGE_FAILPOINTS); empty in production. */
  readonly failpoints: ReadonlyMap<FailpointName, number>;
  /** Memory for recently read object rows of the embedded index (SQLite); 0 turns the cache off. */
  readonly indexCacheBytes: number;
  /** Bytes each tenant may store unless `stowage quota set` says otherwise; undefined for unlimited. */
  readonly quotaBytes: number | undefined;
  /** Requests per second each tenant may make (token bucket refill); 0 turns rate limiting off. */
  readonly rateLimitPerSecond: number;
  /** Requests a tenant may make at once before the rate applies (the bucket's size). */
  readonly rateLimitBurst: number;
  /** JWKS of an external identity provider whose RS256/ES256 tokens are accepted; undefined for none. */
  readonly jwksUrl: string | undefined;
  /** Required `iss` of tokens verified with the JWKS. */
  readonly jwtIssuer: string | undefined;
  /** Required `aud` of tokens verified with the JWKS. */
  readonly jwtAudience: string | undefined;
  /** Claim of a JWKS token that names the tenant. */
  readonly jwtTenantClaim: string;
  /** Longest wait for the identity provider's JWKS, in ms. */
  readonly jwksTimeoutMs: number;
  /**
   * An S3 multipart completion still running after this long answers 200 at once and then sends a
   * space this often until its result, so clients and proxies do not time it out (as S3 does), in ms.
   */
  readonly s3KeepAliveMs: number;
  /** The region S3 clients sign for: a signature scoped to another is refused, naming this one. */
  readonly s3ApiRegion: string;
  /**
   * Origins whose pages may call signed and upload URLs and the S3 API from a browser (CORS),
   * where a bucket has no CORS configuration of its own; `['*']` for any, empty for none.
   */
  readonly corsOrigins: readonly string[];
}

/** Flags from the command line; they win over the environment. */
export interface ConfigOverrides {
  host?: string | undefined;
  port?: string | number | undefined;
  s3Port?: string | number | undefined;
  dataDir?: string | undefined;
  durability?: string | undefined;
  logLevel?: string | undefined;
  logFormat?: string | undefined;
  publicUrl?: string | undefined;
  userContentUrl?: string | undefined;
  trustProxy?: boolean | string | undefined;
  index?: string | undefined;
  blobs?: string | undefined;
  s3Endpoint?: string | undefined;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LOG_FORMATS = ['json', 'pretty'] as const;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A configuration problem: lists every invalid setting at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads configuration from `env` (STOWAGE_* variables) and `overrides` (CLI flags), validates
 * every field, and returns a frozen object. Throws {@link ConfigError} listing all problems.
 */
export function loadConfig(env: NodeJS.ProcessEnv = {}, overrides: ConfigOverrides = {}): ServerConfig {
  const problems: string[] = [];
  const read = <T>(name: string, raw: string | number | undefined, fallback: T, parse: (v: string) => T): T => {
    if (raw === undefined || raw === '') return fallback;
    try {
      return parse(String(raw));
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`);
      return fallback;
    }
  };
  const duration = (name: string, fallback: number) => read(name, env[name], fallback, parseDuration);
  const oneOf =
    <T extends string>(choices: readonly T[]) =>
    (v: string): T => {
      if ((choices as readonly string[]).includes(v)) return v as T;
      throw new Error(`"${v}" is not one of ${choices.join(', ')}`);
    };

  const portNumber = (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`"${v}" is not a port number (0-65535)`);
    return n;
  };
  const port = read('port', overrides.port ?? env.STOWAGE_PORT, 8787, portNumber);
  const s3Port = read<number | undefined>('STOWAGE_S3_PORT', overrides.s3Port ?? env.STOWAGE_S3_PORT, undefined, portNumber);
  const publicUrl = read('STOWAGE_PUBLIC_URL', overrides.publicUrl ?? env.STOWAGE_PUBLIC_URL, undefined, httpOrigin);
  const userContentUrl = read('STOWAGE_USER_CONTENT_URL', overrides.userContentUrl ?? env.STOWAGE_USER_CONTENT_URL, undefined, httpOrigin);
  const rateLimitPerSecond = read('STOWAGE_RATE_LIMIT', env.STOWAGE_RATE_LIMIT, 0, nonNegativeNumber);
  const jwksUrl = read('STOWAGE_JWKS_URL', env.STOWAGE_JWKS_URL, undefined, (v) => {
    const url = new URL(v);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('must be an http(s) URL');
    return url.href;
  });
  const jwtSecret = read('STOWAGE_JWT_SECRET', env.STOWAGE_JWT_SECRET, undefined, (v) => {
    if (Buffer.byteLength(v) < 32) throw new Error('must be at least 32 bytes');
    return v;
  });

  const index = read<IndexConfig>('STOWAGE_INDEX', overrides.index ?? env.STOWAGE_INDEX, { kind: 'sqlite' }, (v) => parseIndex(v, env));
  const blobs = read<BlobsConfig>('STOWAGE_BLOBS', overrides.blobs ?? env.STOWAGE_BLOBS, { kind: 'files' }, (v) =>
    parseBlobs(v, { ...env, STOWAGE_S3_ENDPOINT: overrides.s3Endpoint ?? env.STOWAGE_S3_ENDPOINT }),
  );

  const readOffload = read<ReadOffloadConfig>('STOWAGE_READ_OFFLOAD', env.STOWAGE_READ_OFFLOAD, { kind: 'off' }, (v) =>
    parseReadOffload(v, env),
  );

  const config: ServerConfig = {
    host: overrides.host ?? env.STOWAGE_HOST ?? '127.0.0.1',
    port,
    s3Port,
    dataDir: path.resolve(overrides.dataDir ?? env.STOWAGE_DATA_DIR ?? '.stowage'),
    index,
    blobs,
    storageTimeoutMs: duration('STOWAGE_STORAGE_TIMEOUT', 5_000),
    // An object store may take seconds to answer a large part or a multipart completion.
    blobTimeoutMs: duration('STOWAGE_BLOB_TIMEOUT', 30_000),
    orphanGraceMs: duration('STOWAGE_ORPHAN_GRACE', HOUR),
    replacedBlobGraceMs: read('STOWAGE_REPLACED_BLOB_GRACE', env.STOWAGE_REPLACED_BLOB_GRACE, undefined, parseDuration),
    readOffload,
    durability: read('durability', overrides.durability ?? env.STOWAGE_DURABILITY, 'full', oneOf(['full', 'process'])),
    jwtSecret,
    tmpTtlMs: duration('STOWAGE_TMP_TTL', DAY),
    retentionMs: duration('STOWAGE_RETENTION', 0),
    maxObjectBytes: read('STOWAGE_MAX_OBJECT_SIZE', env.STOWAGE_MAX_OBJECT_SIZE, 5 * 1024 ** 4, parseByteSize),
    uploadCheckpointBytes: read('STOWAGE_UPLOAD_CHECKPOINT', env.STOWAGE_UPLOAD_CHECKPOINT, 64 * 1024 ** 2, (value) => {
      const bytes = parseByteSize(value);
      // Clients keep their running hash every MiB: a checkpoint on a MiB lets them go on from it.
      if (bytes < 1024 ** 2 || bytes % 1024 ** 2 !== 0) throw new Error('must be a whole number of MiB (1MiB or more)');
      return bytes;
    }),
    minFreeBytes: read('STOWAGE_MIN_FREE_SPACE', env.STOWAGE_MIN_FREE_SPACE, 64 * 1024 ** 2, parseByteSize),
    ballastBytes: read('STOWAGE_DISK_BALLAST', env.STOWAGE_DISK_BALLAST, 16 * 1024 ** 2, parseByteSize),
    indexCacheBytes: read('STOWAGE_INDEX_CACHE', env.STOWAGE_INDEX_CACHE, 32 * 1024 ** 2, parseByteSize),
    signedUrlTtlMs: duration('STOWAGE_SIGNED_URL_TTL', HOUR),
    signedUrlMaxTtlMs: 7 * DAY,
    uploadUrlTtlMs: duration('STOWAGE_UPLOAD_URL_TTL', 7 * DAY),
    uploadUrlMaxTtlMs: 7 * DAY,
    issuedTokenTtlMs: duration('STOWAGE_TOKEN_TTL', HOUR),
    publicUrl,
    userContentUrl,
    allowedHosts: read('STOWAGE_ALLOWED_HOSTS', env.STOWAGE_ALLOWED_HOSTS, [], parseHostList),
    sweepIntervalMs: duration('STOWAGE_SWEEP_INTERVAL', 60_000),
    shutdownTimeoutMs: duration('STOWAGE_SHUTDOWN_TIMEOUT', 10_000),
    logLevel: read('log level', overrides.logLevel ?? env.STOWAGE_LOG_LEVEL, 'info', oneOf(LOG_LEVELS)),
    logFormat: read('log format', overrides.logFormat ?? env.STOWAGE_LOG_FORMAT, 'json', oneOf(LOG_FORMATS)),
    failpoints: read<ReadonlyMap<FailpointName, number>>('STOWAGE_FAILPOINTS', env.STOWAGE_FAILPOINTS, new Map(), parseFailpoints),
    accessLog: read('STOWAGE_ACCESS_LOG', env.STOWAGE_ACCESS_LOG, false, boolean),
    trustProxy: read(
      'STOWAGE_TRUST_PROXY',
      overrides.trustProxy === true ? 'true' : overrides.trustProxy || env.STOWAGE_TRUST_PROXY,
      false,
      boolean,
    ),
    headersTimeoutMs: duration('STOWAGE_HEADERS_TIMEOUT', 30_000),
    bodyIdleTimeoutMs: duration('STOWAGE_BODY_IDLE_TIMEOUT', 30_000),
    sendIdleTimeoutMs: duration('STOWAGE_SEND_IDLE_TIMEOUT', 60_000),
    requestTimeoutMs: duration('STOWAGE_REQUEST_TIMEOUT', HOUR),
    keepAliveTimeoutMs: duration('STOWAGE_KEEP_ALIVE_TIMEOUT', 72_000),
    maxInFlight: read('STOWAGE_MAX_IN_FLIGHT', env.STOWAGE_MAX_IN_FLIGHT, 256, positiveInteger),
    maxInFlightPerTenant: read('STOWAGE_MAX_IN_FLIGHT_PER_USER', env.STOWAGE_MAX_IN_FLIGHT_PER_USER, 64, positiveInteger),
    maxBucketsPerUser: read('STOWAGE_MAX_BUCKETS', env.STOWAGE_MAX_BUCKETS, 1000, positiveInteger),
    quotaBytes: read('STOWAGE_QUOTA', env.STOWAGE_QUOTA, undefined, (v) => (v === 'unlimited' ? undefined : parseByteSize(v))),
    rateLimitPerSecond,
    // One second's worth of requests by default, and at least one.
    rateLimitBurst: read('STOWAGE_RATE_BURST', env.STOWAGE_RATE_BURST, Math.max(1, Math.ceil(rateLimitPerSecond)), positiveInteger),
    jwksUrl,
    jwtIssuer: env.STOWAGE_JWT_ISSUER || undefined,
    jwtAudience: env.STOWAGE_JWT_AUDIENCE || undefined,
    jwtTenantClaim: env.STOWAGE_JWT_TENANT_CLAIM || 'sub',
    jwksTimeoutMs: duration('STOWAGE_JWKS_TIMEOUT', 5_000),
    s3KeepAliveMs: duration('STOWAGE_S3_KEEPALIVE_INTERVAL', 5_000),
    s3ApiRegion: read('STOWAGE_S3_API_REGION', env.STOWAGE_S3_API_REGION, 'us-east-1', (v) => {
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(v)) throw new Error('must be a region name such as us-east-1');
      return v;
    }),
    corsOrigins: read('STOWAGE_CORS_ORIGINS', env.STOWAGE_CORS_ORIGINS, [], parseCorsOrigins),
  };
  if (config.headersTimeoutMs === 0) problems.push('STOWAGE_HEADERS_TIMEOUT: must be more than 0');
  if (config.bodyIdleTimeoutMs === 0) problems.push('STOWAGE_BODY_IDLE_TIMEOUT: must be more than 0');
  if (config.sendIdleTimeoutMs === 0) problems.push('STOWAGE_SEND_IDLE_TIMEOUT: must be more than 0');
  if (config.signedUrlTtlMs > config.signedUrlMaxTtlMs) problems.push('STOWAGE_SIGNED_URL_TTL: at most 7d');
  if (config.uploadUrlTtlMs > config.uploadUrlMaxTtlMs) problems.push('STOWAGE_UPLOAD_URL_TTL: at most 7d');
  if (config.jwksUrl && !config.jwtIssuer) problems.push('STOWAGE_JWT_ISSUER: required with STOWAGE_JWKS_URL');
  if (config.jwksUrl && !config.jwtAudience) problems.push('STOWAGE_JWT_AUDIENCE: required with STOWAGE_JWKS_URL');
  if (config.index.kind === 'postgres' && !config.jwtSecret) {
    problems.push('STOWAGE_JWT_SECRET: required with a shared index (every server must sign and verify with the same secret)');
  }
  if (config.storageTimeoutMs === 0) problems.push('STOWAGE_STORAGE_TIMEOUT: must be more than 0');
  if (config.blobTimeoutMs === 0) problems.push('STOWAGE_BLOB_TIMEOUT: must be more than 0');
  if (config.s3Port !== undefined && config.s3Port !== 0 && config.s3Port === config.port)
    problems.push('STOWAGE_S3_PORT: must differ from the API port');
  if (config.userContentUrl !== undefined && config.userContentUrl === config.publicUrl)
    problems.push('STOWAGE_USER_CONTENT_URL: must be another origin than STOWAGE_PUBLIC_URL (the console is served there)');
  if (config.s3KeepAliveMs === 0) problems.push('STOWAGE_S3_KEEPALIVE_INTERVAL: must be more than 0');
  if (config.s3KeepAliveMs >= config.sendIdleTimeoutMs)
    problems.push('STOWAGE_S3_KEEPALIVE_INTERVAL: must be less than STOWAGE_SEND_IDLE_TIMEOUT, or long answers are cut');
  if (readOffload.kind === 'nginx' && blobs.kind !== 'files')
    problems.push('STOWAGE_READ_OFFLOAD: nginx sends blob files, so it needs STOWAGE_BLOBS=files');
  if (readOffload.kind === 'redirect' && blobs.kind !== 's3')
    problems.push('STOWAGE_READ_OFFLOAD: redirect sends clients to the S3 store, so it needs STOWAGE_BLOBS=s3://...');
  if (
    readOffload.kind === 'redirect' &&
    blobs.kind === 's3' &&
    blobs.prefix.split('/').some((segment) => segment === '.' || segment === '..')
  )
    problems.push('STOWAGE_READ_OFFLOAD: redirect cannot name blobs under a prefix with . or .. segments (clients remove them from URLs)');
  if (readOffload.kind === 'nginx' && config.replacedBlobGraceMs !== undefined && config.replacedBlobGraceMs < 1000)
    problems.push('STOWAGE_REPLACED_BLOB_GRACE: at least 1s with nginx read offload, or nginx can find a replaced blob gone');
  if (readOffload.kind === 'redirect' && config.replacedBlobGraceMs !== undefined && config.replacedBlobGraceMs < readOffload.ttlMs)
    problems.push('STOWAGE_REPLACED_BLOB_GRACE: must be at least STOWAGE_READ_REDIRECT_TTL, or a redirected read can find its blob gone');
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/**
 * The PostgreSQL index and S3 bucket of a scale-out deployment, from values as `--index` and
 * `--blobs` take them and the same STOWAGE_INDEX_SCHEMA and STOWAGE_S3_* variables (for
 * `stowage migrate`, which names a deployment besides its own). Throws {@link ConfigError}.
 */
export function parseScaleOutStorage(
  values: { index: string; blobs: string; s3Endpoint?: string | undefined },
  env: NodeJS.ProcessEnv,
): { index: Extract<IndexConfig, { kind: 'postgres' }>; blobs: Extract<BlobsConfig, { kind: 's3' }> } {
  const problems: string[] = [];
  let index: IndexConfig | undefined;
  let blobs: BlobsConfig | undefined;
  try {
    index = parseIndex(values.index, env);
    if (index.kind !== 'postgres') problems.push(`index: "${values.index}" is not a postgres:// URL`);
  } catch (error) {
    problems.push(`index: ${(error as Error).message}`);
  }
  try {
    blobs = parseBlobs(values.blobs, { ...env, STOWAGE_S3_ENDPOINT: values.s3Endpoint ?? env.STOWAGE_S3_ENDPOINT });
    if (blobs.kind !== 's3') problems.push(`blobs: "${values.blobs}" is not an s3://BUCKET/PREFIX`);
  } catch (error) {
    problems.push(`blobs: ${(error as Error).message}`);
  }
  if (problems.length > 0 || index?.kind !== 'postgres' || blobs?.kind !== 's3') throw new ConfigError(problems);
  return { index, blobs };
}

/** `sqlite`, or a postgres:// URL (schema and pool size from their own variables). */
function parseIndex(value: string, env: NodeJS.ProcessEnv): IndexConfig {
  if (value === 'sqlite') return { kind: 'sqlite' };
  const url = new URL(value);
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new Error('must be "sqlite" or a postgres:// URL');
  const schema = env.STOWAGE_INDEX_SCHEMA || 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`STOWAGE_INDEX_SCHEMA "${schema}" is not a lower-case SQL name`);
  return {
    kind: 'postgres',
    url: value,
    schema,
    poolSize: env.STOWAGE_INDEX_POOL_SIZE ? positiveInteger(env.STOWAGE_INDEX_POOL_SIZE) : 20,
  };
}

/** The settings of an S3 location: a bucket, a prefix in it, and how to reach it. */
export type S3Location = Extract<BlobsConfig, { kind: 's3' }>;

/**
 * An s3://BUCKET[/PREFIX] location reached with the settings the S3 blob store uses
 * (STOWAGE_S3_ENDPOINT, _REGION, _ACCESS_KEY_ID and _SECRET_ACCESS_KEY, _FORCE_PATH_STYLE).
 */
export function parseS3Location(value: string, env: NodeJS.ProcessEnv): S3Location {
  const location = parseBlobs(value, env);
  if (location.kind !== 's3') throw new Error(`${value} is not an s3://BUCKET/PREFIX location`);
  return location;
}

/** `files`, or s3://BUCKET[/PREFIX] with the endpoint, region and keys from STOWAGE_S3_* (or the AWS chain). */
function parseBlobs(value: string, env: NodeJS.ProcessEnv): BlobsConfig {
  if (value === 'files') return { kind: 'files' };
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(value);
  if (!match?.[1]) throw new Error('must be "files" or s3://BUCKET/PREFIX');
  const endpoint = env.STOWAGE_S3_ENDPOINT || undefined;
  if (endpoint) new URL(endpoint);
  const accessKeyId = env.STOWAGE_S3_ACCESS_KEY_ID;
  const secretAccessKey = env.STOWAGE_S3_SECRET_ACCESS_KEY;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey))
    throw new Error('set both STOWAGE_S3_ACCESS_KEY_ID and STOWAGE_S3_SECRET_ACCESS_KEY, or neither');
  return {
    kind: 's3',
    bucket: match[1],
    prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, ''),
    endpoint,
    region: env.STOWAGE_S3_REGION || env.AWS_REGION || 'us-east-1',
    forcePathStyle: env.STOWAGE_S3_FORCE_PATH_STYLE ? boolean(env.STOWAGE_S3_FORCE_PATH_STYLE) : endpoint !== undefined,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    publicEndpoint: env.STOWAGE_S3_PUBLIC_ENDPOINT ? httpUrl(env.STOWAGE_S3_PUBLIC_ENDPOINT, 'STOWAGE_S3_PUBLIC_ENDPOINT') : undefined,
  };
}

function httpUrl(value: string, name: string): string {
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${name} must be an http(s) URL`);
  return value;
}

/** An nginx location: a path that starts and ends with `/`, of characters that need no escaping. */
const NGINX_LOCATION = /^\/[A-Za-z0-9._~/-]*\/$/;

/** `off`, `nginx` or `redirect`, with STOWAGE_READ_OFFLOAD_MIN_SIZE, STOWAGE_NGINX_BLOB_LOCATION and STOWAGE_READ_REDIRECT_TTL. */
function parseReadOffload(value: string, env: NodeJS.ProcessEnv): ReadOffloadConfig {
  if (value === 'off') return { kind: 'off' };
  const minBytes = env.STOWAGE_READ_OFFLOAD_MIN_SIZE ? parseByteSize(env.STOWAGE_READ_OFFLOAD_MIN_SIZE) : 1024 ** 2;
  if (value === 'nginx') {
    const location = env.STOWAGE_NGINX_BLOB_LOCATION || '/_stowage_blobs/';
    if (!NGINX_LOCATION.test(location))
      throw new Error(`STOWAGE_NGINX_BLOB_LOCATION "${location}" must be a path such as /_stowage_blobs/`);
    return { kind: 'nginx', minBytes, location };
  }
  if (value === 'redirect') {
    const ttlMs = env.STOWAGE_READ_REDIRECT_TTL ? parseDuration(env.STOWAGE_READ_REDIRECT_TTL) : 5 * 60_000;
    if (ttlMs < 1000 || ttlMs > 7 * DAY) throw new Error("STOWAGE_READ_REDIRECT_TTL must be from 1s to 7d (a presigned URL's range)");
    return { kind: 'redirect', minBytes, ttlMs };
  }
  throw new Error(`"${value}" is not one of off, nginx, redirect`);
}

/** Comma-separated `name` or `name:port` entries. */
function parseHostList(value: string): HostAndPort[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const parsed = parseHostAndPort(entry);
      if (!parsed) throw new Error(`"${entry}" is not a host name or address, with an optional :port`);
      return parsed;
    });
}

/**
 * `*`, or comma-separated origins (scheme, host and port, no path), kept in the form browsers send
 * in `Origin`. Anything else is refused rather than kept as an entry that can never match.
 */
function parseCorsOrigins(value: string): string[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.includes('*')) {
    if (entries.length > 1) throw new Error('"*" allows every origin: list no others with it');
    return ['*'];
  }
  return entries.map((entry) => {
    if (entry.includes('*'))
      throw new Error(`"${entry}": list origins one by one (a wildcard belongs in a bucket's CORS rules), or * alone`);
    if (!/^https?:\/\/[^/?#@\s]+\/?$/i.test(entry) || !URL.canParse(entry))
      throw new Error(`"${entry}" is not an origin such as https://app.example.com (scheme, host and port only)`);
    return new URL(entry).origin;
  });
}

/** The origin of an http(s) URL (scheme, host and port; a path is dropped). */
function httpOrigin(value: string): string {
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('must be an http(s) URL');
  return url.origin;
}

function boolean(value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new Error(`"${value}" is not true or false`);
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`"${value}" is not a whole number of at least 1`);
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`"${value}" is not a number of at least 0`);
  return n;
}

/** A config for tests and embedding: defaults plus the given fields, frozen. */
export function defineConfig(fields: Partial<ServerConfig> & { dataDir: string }): ServerConfig {
  return Object.freeze({ ...loadConfig({}, { port: 0, logLevel: 'silent' }), ...fields });
}
