import type http from 'node:http';
import type { FastifyInstance } from 'fastify';
import type pino from 'pino';
import type { ApiKeyStore } from './auth/api-keys.js';
import { createApiKey, findApiKey } from './auth/api-keys.js';
import { JwksVerifier } from './auth/jwks-verifier.js';
import { SecretSealer } from './auth/secret-sealer.js';
import { loadServerSecret } from './auth/server-secret.js';
import { TokenService } from './auth/token-service.js';
import { UrlSigner } from './auth/url-signer.js';
import type { Backend } from './backends/backend.js';
import { openBackend } from './backends/open-backend.js';
import type { ServerConfig } from './config.js';
import { createFailpoint, noPause, type PausePoint } from './failpoints.js';
import { buildApp } from './http/app.js';
import type { AppContext } from './http/context.js';
import { listensBeyondLoopback } from './http/host-names.js';
import { createMetrics } from './http/metrics.js';
import { TenantRateLimits } from './http/rate-limits.js';
import { TenantSlots } from './http/tenant-slots.js';
import { createLogger } from './logger.js';
import { createS3RootListener } from './s3/root-listener.js';
import { Access } from './storage/access.js';
import { BucketCors } from './storage/bucket-cors.js';
import { lifecycleRulesOf } from './storage/bucket-expiry.js';
import { BucketService } from './storage/bucket-service.js';
import { MultipartService } from './storage/multipart-service.js';
import { ATTRIBUTE_LAYOUT } from './storage/object-attributes.js';
import { ObjectService } from './storage/object-service.js';
import { PrefixService } from './storage/prefix-service.js';
import { retentionOf } from './storage/retention.js';
import { RetentionService } from './storage/retention-service.js';
import { SignedUrls } from './storage/signed-urls.js';

export interface ServerDependencies {
  /** Milliseconds since the epoch; tests inject one to move time. */
  clock?: () => number;
  logger?: pino.Logger;
  /** Tests hold requests at named steps with it, to play a race in a chosen order. */
  pause?: PausePoint;
}

/** A running (or ready to run) Stowage server. */
export interface StowageServer {
  readonly app: FastifyInstance;
  readonly context: AppContext;
  /** The storage engine under the domain: for the server's own work and tests, never for the routes. */
  readonly backend: Backend;
  /** Listens on config.host:config.port (and the S3 port, if any); resolves with the base URL of the API. */
  listen(): Promise<string>;
  /** The S3 endpoint at the root of the S3 port once listening (`http://host:port`); undefined without one. */
  s3RootUrl(): string | undefined;
  /** Issues a JWT for `tenant` signed with this server's secret. */
  issueToken(tenant: string, ttlMs?: number): Promise<string>;
  /** Creates an API key for `tenant` (for `/auth/token` and as S3 credentials); the secret is shown once. */
  createApiKey(tenant: string): Promise<{ clientId: string; secret: string }>;
  /** Stops accepting, finishes in-flight requests (bounded), closes the backend. */
  close(): Promise<void>;
}

/** Opens the index and blob store the config names, and the secret that signs tokens and URLs. */
export async function openStorage(config: ServerConfig, deps: ServerDependencies = {}) {
  const logger = deps.logger ?? createLogger(config);
  const backend = await openBackend(config, {
    attributeLayout: ATTRIBUTE_LAYOUT,
    clock: deps.clock,
    failpoint: createFailpoint(config.failpoints),
    onWarning: (message, error) => logger.warn({ err: error }, message),
  });
  const apiKeys: ApiKeyStore = backend.index.apiKeys;
  const bucketSettings = backend.index.bucketSettings;
  const bucketStore = backend.index.buckets;
  try {
    const secret = await loadServerSecret(config.dataDir, config.jwtSecret);
    return { backend: backend as Backend, apiKeys, bucketSettings, bucketStore, secret, logger };
  } catch (error) {
    await backend.close();
    throw error;
  }
}

/**
 * The store's origin that redirected reads name (for the console's policy): from a probe URL, else
 * from the configured endpoint when presigning fails at start (credentials not there yet).
 */
async function redirectOriginOf(config: ServerConfig, backend: Backend, logger: pino.Logger): Promise<string | undefined> {
  if (config.readOffload.kind !== 'redirect') return undefined;
  try {
    return await backend.handoffOrigin();
  } catch (error) {
    const endpoint = config.blobs.kind === 's3' ? (config.blobs.publicEndpoint ?? config.blobs.endpoint) : undefined;
    logger.warn({ err: error }, `no presigned URL at start: the console may fetch from ${endpoint ?? 'no store'} only`);
    return endpoint === undefined ? undefined : new URL(endpoint).origin;
  }
}

/** Builds the whole server from a config: backend, auth, domain, HTTP app, sweeper. */
export async function createServer(config: ServerConfig, deps: ServerDependencies = {}): Promise<StowageServer> {
  const clock = deps.clock ?? Date.now;
  const { backend, apiKeys, bucketSettings, bucketStore, secret, logger } = await openStorage(config, deps);
  const buckets = new BucketService(bucketStore, {
    maxBucketsPerUser: config.maxBucketsPerUser,
    clock,
  });
  const access = new Access(buckets);
  const lifecycleRules = lifecycleRulesOf(buckets);
  const objects = new ObjectService(backend, {
    tmpTtlMs: config.tmpTtlMs,
    maxObjectBytes: config.maxObjectBytes,
    clock,
    lifecycleRules,
    retention: retentionOf(buckets, config.retentionMs),
  });
  const pause = deps.pause ?? noPause;
  const context: AppContext = {
    config,
    objects,
    prefixes: new PrefixService(backend, {
      clock,
      expiryOf: (tenant, type) => objects.expiryOf(tenant, type),
      purgeScheduleFor: (tenant, type) => objects.purgeScheduleFor(tenant, type),
    }),
    retention: new RetentionService(backend, {
      clock,
      purgeScheduleFor: (tenant, type) => objects.purgeScheduleFor(tenant, type),
      lifecycleRules,
      warn: (message, error) => logger.warn({ err: error }, message),
    }),
    buckets,
    access,
    multipart: new MultipartService(backend, objects, { maxObjectBytes: config.maxObjectBytes, clock, pause }),
    apiKeys,
    tokens: new TokenService(
      secret,
      clock,
      jwksVerifierFor(config, clock),
      async (clientId) => (await findApiKey(apiKeys, clientId)) !== undefined,
    ),
    signedUrls: new SignedUrls(new UrlSigner(secret), clock),
    bucketCors: new BucketCors(bucketSettings),
    sealer: new SecretSealer(secret),
    metrics: createMetrics(),
    rateLimits: new TenantRateLimits(config.rateLimitPerSecond, config.rateLimitBurst, clock),
    tenantSlots: new TenantSlots(config.maxInFlightPerTenant),
    clock,
    pause,
    lifecycle: { draining: false },
    redirectOrigin: await redirectOriginOf(config, backend, logger),
  };
  const app = buildApp(context, logger);

  const sweeper = setInterval(() => {
    objects
      .sweep()
      .then((count) => context.metrics.expiredSwept.inc(count))
      .catch((error) => logger.error({ err: error }, 'sweeping expired objects failed'));
  }, config.sweepIntervalMs);
  sweeper.unref();

  let closing: Promise<void> | undefined;
  let s3Listener: http.Server | undefined;
  let s3RootUrl: string | undefined;
  return {
    app,
    context,
    backend,
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      warnWithoutPublicUrl(config, logger);
      if (config.s3Port !== undefined) {
        // Requests there are the main server's own: the same handler, admission and shutdown.
        s3Listener = createS3RootListener(config, (request, response) => app.server.emit('request', request, response));
        try {
          s3RootUrl = await listenOn(s3Listener, config.host, config.s3Port);
          s3Listener.on('error', (error) => logger.error({ err: error }, 'the S3 port failed'));
        } catch (error) {
          s3Listener = undefined;
          await app.close();
          throw error;
        }
      }
      return `${address}/storage/v1`;
    },
    s3RootUrl: () => s3RootUrl,
    issueToken: async (tenant, ttlMs = 3_600_000) => (await context.tokens.issue(tenant, ttlMs)).token,
    createApiKey: (tenant) => createApiKey(apiKeys, tenant, context.sealer),
    close() {
      closing ??= (async () => {
        context.lifecycle.draining = true;
        clearInterval(sweeper);
        const timer = setTimeout(() => {
          app.server.closeAllConnections();
          s3Listener?.closeAllConnections();
        }, config.shutdownTimeoutMs);
        try {
          await Promise.all([app.close(), s3Listener && closeListener(s3Listener)]);
        } finally {
          clearTimeout(timer);
          await backend.close();
        }
      })();
      return closing;
    },
  };
}

/** The verifier of the identity provider's tokens, when STOWAGE_JWKS_URL names one. */
function jwksVerifierFor(config: ServerConfig, clock: () => number): JwksVerifier | undefined {
  const { jwksUrl, jwtIssuer, jwtAudience } = config;
  if (!jwksUrl || !jwtIssuer || !jwtAudience) return undefined;
  return new JwksVerifier({
    url: jwksUrl,
    issuer: jwtIssuer,
    audience: jwtAudience,
    tenantClaim: config.jwtTenantClaim,
    timeoutMs: config.jwksTimeoutMs,
    clock,
  });
}

/**
 * Other machines reach this server by names it cannot know: without a public URL, the URLs it
 * hands out name the address a request arrived on (or a name of STOWAGE_ALLOWED_HOSTS, or the
 * proxy's), which may not be the one clients use.
 */
function warnWithoutPublicUrl(config: ServerConfig, logger: pino.Logger): void {
  if (config.publicUrl || !listensBeyondLoopback(config.host)) return;
  const source = config.trustProxy
    ? 'the host the proxy forwards'
    : 'the address each request arrived on, or the Host it sent when STOWAGE_ALLOWED_HOSTS lists it';
  logger.warn(
    { host: config.host },
    `listening beyond loopback without STOWAGE_PUBLIC_URL: signed and upload URLs name ${source}; set STOWAGE_PUBLIC_URL to the origin clients use`,
  );
}

/** Listens on host:port; resolves with the listener's origin (the port it got, for port 0). */
function listenOn(server: http.Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      const bound = typeof address === 'object' && address ? address : { address: host, port, family: 'IPv4' };
      const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
      resolve(`http://${shown}:${bound.port}`);
    });
  });
}

/** Stops accepting, closes idle connections now and the others as their requests end. */
function closeListener(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
