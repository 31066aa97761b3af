import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createApiKey } from './auth/api-keys.js';
import { loadServerSecret } from './auth/server-secret.js';
import { TokenService } from './auth/token-service.js';
import type { TenantUsage } from './backends/backend.js';
import { type IndexDb, openIndexDb } from './backends/fs/index-db.js';
import { SqliteApiKeyStore } from './backends/fs/sqlite-api-keys.js';
import { type QuotaOverride, TenantLedger } from './backends/fs/tenant-usage.js';
import type { ServerConfig } from './config.js';

export { FsckError, type FsckOptions, fsck, LIVE_GRACE_MS } from './backends/fs/fsck.js';
export { type FindingKind, FsckExit, type FsckFinding, type FsckReport, type Severity } from './backends/fs/fsck-findings.js';

/**
 * Operator actions that work on a data directory directly, safe while a server runs on it:
 * they never run the start-up cleanup, and SQLite (WAL) arbitrates the concurrent access.
 */
export async function issueAdminToken(config: ServerConfig, tenant: string, ttlMs: number): Promise<string> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const secret = await loadServerSecret(config.dataDir, config.jwtSecret);
  return (await new TokenService(secret).issue(tenant, ttlMs)).token;
}

export async function createAdminApiKey(config: ServerConfig, tenant: string): Promise<{ clientId: string; secret: string }> {
  return withIndex(config, (index) => createApiKey(new SqliteApiKeyStore(index), tenant));
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
  return withIndex(config, (index) => {
    const { setTenantQuota, clearTenantQuota } = index.statements;
    if (quota === 'default') clearTenantQuota.run(tenant);
    else setTenantQuota.run({ tenant, quotaBytes: quota });
    return quotaReport(index, config, tenant);
  });
}

export async function showTenantQuota(config: ServerConfig, tenant: string): Promise<TenantQuotaReport> {
  return withIndex(config, (index) => quotaReport(index, config, tenant));
}

function quotaReport(index: IndexDb, config: ServerConfig, tenant: string): TenantQuotaReport {
  const usage = new TenantLedger(index, config.quotaBytes ?? null).read(tenant);
  const override = index.statements.tenantQuota.get(tenant) as QuotaOverride;
  return { ...usage, quotaSource: override ? 'tenant' : 'default' };
}

async function withIndex<T>(config: ServerConfig, work: (index: IndexDb) => T | Promise<T>): Promise<T> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const index = openIndexDb(path.join(config.dataDir, 'index.sqlite'), config.durability);
  try {
    return await work(index);
  } finally {
    index.db.close();
  }
}
