import type { ApiKeyStore } from '../auth/api-keys.js';
import type { SecretSealer } from '../auth/secret-sealer.js';
import type { TokenService } from '../auth/token-service.js';
import type { ServerConfig } from '../config.js';
import type { PausePoint } from '../failpoints.js';
import type { Access } from '../storage/access.js';
import type { BucketCors } from '../storage/bucket-cors.js';
import type { Principal } from '../storage/bucket-model.js';
import type { BucketService } from '../storage/bucket-service.js';
import type { MultipartService } from '../storage/multipart-service.js';
import type { ObjectService } from '../storage/object-service.js';
import type { PrefixService } from '../storage/prefix-service.js';
import type { RetentionService } from '../storage/retention-service.js';
import type { SignedUrls } from '../storage/signed-urls.js';
import type { Metrics } from './metrics.js';
import type { TenantRateLimits } from './rate-limits.js';
import type { TenantSlots } from './tenant-slots.js';

/** Everything the routes use, built once by the server and passed down: the domain, never the engine. */
export interface AppContext {
  readonly config: ServerConfig;
  readonly objects: ObjectService;
  /** Operations on many keys: delete by prefix or list, prefix usage, copy, move, folder listing. */
  readonly prefixes: PrefixService;
  /** Undo: versions kept by retention, listed and restored. */
  readonly retention: RetentionService;
  /** S3 multipart uploads: create, parts, listings, abort, completion. */
  readonly multipart: MultipartService;
  readonly signedUrls: SignedUrls;
  /** Named buckets: create, list, remove, settings (grants, policy, public access block, lifecycle, quota). */
  readonly buckets: BucketService;
  /** Who may do what where: every operation on objects of either front asks it first. */
  readonly access: Access;
  /** Buckets' CORS configurations (S3's PutBucketCors), by which cross-origin S3 requests are judged. */
  readonly bucketCors: BucketCors;
  /** Seals and opens API key secrets (S3 signatures are made with them). */
  readonly sealer: SecretSealer;
  readonly tokens: TokenService;
  readonly apiKeys: ApiKeyStore;
  readonly metrics: Metrics;
  /** Requests per second per tenant; `take` is a no-op when off. */
  readonly rateLimits: TenantRateLimits;
  /** Each user's share of the requests in flight. */
  readonly tenantSlots: TenantSlots;
  readonly clock: () => number;
  /** Where a test holds a request at a named step (failpoints.ts); resolves at once otherwise. */
  readonly pause: PausePoint;
  /** Set when shutdown begins: readiness fails so load balancers stop sending traffic. */
  readonly lifecycle: { draining: boolean };
  /** The store's origin that reads redirected to it name (STOWAGE_READ_OFFLOAD=redirect), else undefined. */
  readonly redirectOrigin: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The authenticated tenant (JWT `sub`); set by the auth hook on API routes. Reading it on an
     * anonymous request throws MissingToken (http/principal.ts), so no route acts for no one.
     */
    tenant: string;
    /** Who asks: the authenticated user, or anonymous (no credentials); set by the auth hooks. */
    principal: Principal;
  }
}
