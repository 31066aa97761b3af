import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { createApiKey, type NewApiKey } from './auth/api-keys.js';
import { SecretSealer } from './auth/secret-sealer.js';
import { loadServerSecret, SECRET_FILE } from './auth/server-secret.js';
import { TokenService } from './auth/token-service.js';
import { assertUserId } from './auth/user-id.js';
import type { TenantUsage } from './backends/backend.js';
import type { ObjectIndex } from './backends/object-index.js';
import { openIndex } from './backends/open-backend.js';
import type { ServerConfig } from './config.js';
import { ATTRIBUTE_LAYOUT } from './storage/object-attributes.js';

export {
  type BackupOptions,
  backup,
  DEFAULT_BACKUP_JOBS,
  type RestoreBackupOptions,
  restoreDataDir,
} from './backends/backup/backup.js';
export { BackupError, BackupExit } from './backends/backup/backup-errors.js';
export type { BackupProgress, BackupReport } from './backends/backup/embedded-backup.js';
export type { BackupManifest } from './backends/backup/manifest.js';
export type { RestoreProblem, RestoreProgress, RestoreReport } from './backends/backup/restore.js';
export { FsckError, type FsckOptions, fsck, LIVE_GRACE_MS } from './backends/fs/fsck.js';
export { type FindingKind, FsckExit, type FsckFinding, type FsckReport, type Severity } from './backends/fs/fsck-findings.js';
export {
  type MigrateEndpoint,
  type MigrateOptions,
  type MigrateProgress,
  type MigrateReport,
  migrate,
} from './backends/migrate/migrate.js';
export { createFailpoint, parseFailpoints } from './failpoints.js';

/**
 * Operator actions that work on the index directly (SQLite in the data directory, or the shared
 * PostgreSQL), safe while servers run on it: they never run the start-up cleanup, and the
 * database arbitrates the concurrent access.
 */
export async function issueAdminToken(config: ServerConfig, tenant: string, ttlMs: number): Promise<string> {
  if (!config.jwtSecret) await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const secret = await loadServerSecret(config.dataDir, config.jwtSecret);
  return (await new TokenService(secret).issue(tenant, ttlMs)).token;
}

/** A key for `tenant` made by an operator (`stowage keys create --user`), perhaps scoped. */
export async function createAdminApiKey(
  config: ServerConfig,
  tenant: string,
  options: NewApiKey = {},
): Promise<{ clientId: string; secret: string }> {
  const sealer = new SecretSealer(await loadServerSecret(config.dataDir, config.jwtSecret));
  return withIndex(config, (index) => createApiKey(index.apiKeys, tenant, sealer, Date.now(), options));
}

/** A tenant's usage and quota, and whether the quota is its own or the server's default (STOWAGE_QUOTA). */
export interface TenantQuotaReport extends TenantUsage {
  readonly quotaSource: 'tenant' | 'default';
}

/**
 * Sets a tenant's quota: bytes, `null` for unlimited, or `'default'` to follow STOWAGE_QUOTA
 * again. A running server applies it from its next write on.
 */
export async function setTenantQuota(config: ServerConfig, tenant: string, quota: number | null | 'default'): Promise<TenantQuotaReport> {
  assertUserId(tenant);
  return withIndex(config, async (index) => {
    await index.setQuota(tenant, quota);
    return quotaReport(index, tenant);
  });
}

export async function showTenantQuota(config: ServerConfig, tenant: string): Promise<TenantQuotaReport> {
  assertUserId(tenant);
  return withIndex(config, (index) => quotaReport(index, tenant));
}

async function quotaReport(index: ObjectIndex, tenant: string): Promise<TenantQuotaReport> {
  return { ...(await index.usage(tenant)), quotaSource: await index.quotaSource(tenant) };
}

async function withIndex<T>(config: ServerConfig, work: (index: ObjectIndex) => Promise<T>): Promise<T> {
  const index = await openIndex(config, ATTRIBUTE_LAYOUT);
  try {
    return await work(index);
  } finally {
    await index.close();
  }
}

/**
 * Makes `secret` the server secret of a data directory (its `secret.key`) unless it has one:
 * a data directory migrated from a scale-out deployment then opens the API keys sealed there
 * without STOWAGE_JWT_SECRET. 'kept' when it already had this secret, 'differs' when another.
 */
export async function adoptServerSecret(dataDir: string, secret: string): Promise<'written' | 'kept' | 'differs'> {
  const file = path.join(dataDir, SECRET_FILE);
  try {
    return (await readFile(file, 'utf8')).trim() === secret ? 'kept' : 'differs';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await writeFile(file, secret, { mode: 0o600, flag: 'wx', flush: true });
  return 'written';
}

/**
 * Whether `secret` opens the API keys sealed in a data directory's index (so servers started with
 * it keep them usable); undefined when the index holds no sealed key.
 */
export function secretOpensApiKeys(dataDir: string, secret: string): boolean | undefined {
  const db = new Sqlite(path.join(dataDir, 'index.sqlite'), { fileMustExist: true, timeout: 5_000 });
  try {
    const row = db.prepare('SELECT client_id, secret_sealed FROM api_keys WHERE secret_sealed IS NOT NULL LIMIT 1').get() as
      | { client_id: string; secret_sealed: string }
      | undefined;
    if (!row) return undefined;
    return new SecretSealer(Buffer.from(secret, 'utf8')).open(row.client_id, row.secret_sealed) !== undefined;
  } finally {
    db.close();
  }
}
