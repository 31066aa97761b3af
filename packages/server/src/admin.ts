import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createApiKey } from './auth/api-keys.js';
import { loadServerSecret } from './auth/server-secret.js';
import { TokenService } from './auth/token-service.js';
import { openIndexDb } from './backends/fs/index-db.js';
import { SqliteApiKeyStore } from './backends/fs/sqlite-api-keys.js';
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
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const index = openIndexDb(path.join(config.dataDir, 'index.sqlite'), config.durability);
  try {
    return await createApiKey(new SqliteApiKeyStore(index), tenant);
  } finally {
    index.db.close();
  }
}
