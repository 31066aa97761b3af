import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ServerConfig } from '../config.js';
import type { Failpoint } from '../failpoints.js';
import type { AttributeLayout } from './backend.js';
import type { BlobStore } from './blob-store.js';
import { type DataDirLock, lockDataDir } from './fs/data-dir-lock.js';
import { FileBlobStore } from './fs/file-blob-store.js';
import { SqliteIndex } from './fs/sqlite-index.js';
import { IndexedBackend } from './indexed-backend.js';
import type { ObjectIndex } from './object-index.js';

export interface OpenBackendOptions {
  /** Which stored attribute fields describe the bytes: the domain's (a copy keeps them). */
  readonly attributeLayout: AttributeLayout;
  readonly clock?: (() => number) | undefined;
  readonly failpoint?: Failpoint | undefined;
  readonly onWarning?: ((message: string, error: unknown) => void) | undefined;
}

/** How often the sweeper also looks for orphan blobs. */
const ORPHAN_SWEEP_INTERVAL_MS = 15 * 60_000;

/**
 * Pairs the index and the blob store the config names. Anything kept in the data directory
 * (the SQLite index, blob files) is owned by one process: the data directory is locked first,
 * and what a crash left there is removed before serving.
 */
export async function openBackend(config: ServerConfig, options: OpenBackendOptions): Promise<IndexedBackend> {
  const usesDataDir = config.index.kind === 'sqlite' || config.blobs.kind === 'files';
  let lock: DataDirLock | undefined;
  if (usesDataDir) {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    lock = lockDataDir(config.dataDir, 'stowage serve');
  }
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const index = await openIndex(config, options.attributeLayout, { serving: options });
    opened.push(index);
    const blobs = await openBlobStore(config);
    opened.push(blobs);
    const { attributeLayout: _layout, ...backendOptions } = options;
    const backend = new IndexedBackend(index, blobs, {
      ...backendOptions,
      orphanGraceMs: config.orphanGraceMs,
      orphanSweepIntervalMs: Math.min(ORPHAN_SWEEP_INTERVAL_MS, config.orphanGraceMs),
      replacedBlobGraceMs: config.replacedBlobGraceMs ?? offloadedReadGraceMs(config, blobs),
      uploadCheckpointBytes: config.uploadCheckpointBytes,
    });
    // Blobs replaced just before a crash were queued but not yet deleted. An index in the data
    // directory is this process's alone: leases of a collector that crashed are void.
    await backend.collectGarbage({ everything: config.index.kind === 'sqlite' });
    // Blob files belong to this process alone: whatever no row names is a crash's leftover.
    if (config.blobs.kind === 'files') await backend.sweepOrphans(0);
    const close = backend.close.bind(backend);
    backend.close = async () => {
      try {
        await close();
      } finally {
        lock?.release();
      }
    };
    return backend;
  } catch (error) {
    for (const part of opened.reverse()) await part.close().catch(() => {});
    lock?.release();
    throw error;
  }
}

/**
 * The index alone (operator commands: keys, quotas), without the data directory lock; `serving`:
 * for a serving process (the embedded index's upkeep on a thread of its own).
 */
export async function openIndex(
  config: ServerConfig,
  attributeLayout: AttributeLayout,
  { serving }: { serving?: Pick<OpenBackendOptions, 'onWarning'> } = {},
): Promise<ObjectIndex> {
  if (config.index.kind === 'sqlite') {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    return SqliteIndex.open({
      file: path.join(config.dataDir, 'index.sqlite'),
      durability: config.durability,
      defaultQuotaBytes: config.quotaBytes ?? null,
      rowCacheBytes: config.indexCacheBytes,
      attributeLayout,
      upkeepThread: serving && { onWarning: serving.onWarning ?? (() => {}) },
    });
  }
  const { PgIndex } = await import('./postgres/pg-index.js');
  return PgIndex.open({
    connectionString: config.index.url,
    schema: config.index.schema,
    poolSize: config.index.poolSize,
    statementTimeoutMs: config.storageTimeoutMs,
    connectTimeoutMs: config.storageTimeoutMs,
    defaultQuotaBytes: config.quotaBytes ?? null,
    attributeLayout,
  });
}

/**
 * An offloaded read opens its blob after this server answered, so a replaced blob must outlive its
 * row for longer: nginx opens the file at once (a minute is plenty); a redirected client may
 * start its GET at the last moment of its URL's lifetime, and then read for as long as the store's grace.
 */
function offloadedReadGraceMs(config: ServerConfig, blobs: BlobStore): number | undefined {
  const offload = config.readOffload;
  if (offload.kind === 'nginx') return Math.max(blobs.replacedBlobGraceMs, 60_000);
  if (offload.kind === 'redirect') return offload.ttlMs + blobs.replacedBlobGraceMs;
  return undefined;
}

async function openBlobStore(config: ServerConfig): Promise<BlobStore> {
  const { blobs } = config;
  if (blobs.kind === 'files') {
    return FileBlobStore.open({
      dataDir: config.dataDir,
      durability: config.durability,
      disk: { minFreeBytes: config.minFreeBytes, ballastBytes: config.ballastBytes },
    });
  }
  const { S3BlobStore } = await import('./s3/s3-blob-store.js');
  return S3BlobStore.open({
    bucket: blobs.bucket,
    prefix: blobs.prefix,
    endpoint: blobs.endpoint,
    region: blobs.region,
    forcePathStyle: blobs.forcePathStyle,
    credentials: blobs.credentials,
    publicEndpoint: blobs.publicEndpoint,
    timeoutMs: config.blobTimeoutMs,
    // A slow client feeding an upload, or reading a download, is no outage: outlast its idle timeouts.
    streamIdleTimeoutMs: Math.max(config.bodyIdleTimeoutMs, config.sendIdleTimeoutMs) + config.storageTimeoutMs,
  });
}
