import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ServerConfig } from '../../config.js';
import { parseS3Location } from '../../config.js';
import { createFailpoint } from '../../failpoints.js';
import { BackupError, BackupExit } from './backup-errors.js';
import { type BackupStore, DirectoryBackupStore, openBackupStore } from './backup-store.js';
import { type BackupProgress, type BackupReport, backupDataDir } from './embedded-backup.js';
import { backupPostgres } from './pg-backup.js';
import { type RestoreProgress, type RestoreReport, restoreBackup } from './restore.js';

/** Blobs copied at once unless told otherwise. */
export const DEFAULT_BACKUP_JOBS = 8;

export interface BackupOptions {
  /** The deployment to back up (its data directory, or its PostgreSQL index and S3 bucket). */
  readonly config: ServerConfig;
  /** A directory, or s3://BUCKET/PREFIX reached with the S3 settings of the environment (STOWAGE_S3_*). */
  readonly destination: string;
  readonly env: NodeJS.ProcessEnv;
  readonly jobs?: number | undefined;
  readonly onProgress?: ((progress: BackupProgress) => void) | undefined;
  /** Tests: false leaves the collector alone; a hook after each snapshot; how many snapshots at most. */
  readonly holdCollector?: boolean | undefined;
  readonly afterSnapshot?: ((pass: number) => Promise<void>) | undefined;
  readonly maxPasses?: number | undefined;
}

/**
 * Backs up a deployment while its servers run: the embedded one (SQLite index + blob files, see
 * backupDataDir) or the scale-out one (PostgreSQL + S3, see backupPostgres), into a directory or
 * an S3 prefix. Running it again over the same destination copies only the blobs not there yet,
 * and finishes a backup that was interrupted.
 */
export async function backup(options: BackupOptions): Promise<BackupReport> {
  const { config } = options;
  const embedded = config.index.kind === 'sqlite' && config.blobs.kind === 'files';
  if (!embedded && !(config.index.kind === 'postgres' && config.blobs.kind === 's3'))
    throw new BackupError(
      'stowage backup covers the embedded deployment (SQLite index + blob files) and the scale-out one (PostgreSQL + S3); for a mixed pairing, follow docs/deploy.md (Backups and restores)',
      BackupExit.usage,
    );
  const store = await openDestination(options.destination, options.env);
  if (store instanceof DirectoryBackupStore) {
    if (embedded) checkOutsideDataDir(config.dataDir, store.location);
    await checkBackupDirectory(store.location);
  }
  const jobs = options.jobs ?? DEFAULT_BACKUP_JOBS;
  const failpoint = createFailpoint(config.failpoints);
  try {
    if (config.index.kind === 'postgres' && config.blobs.kind === 's3')
      return await backupPostgres({
        index: config.index,
        blobs: config.blobs,
        store,
        jobs,
        env: options.env,
        failpoint,
        onProgress: options.onProgress,
        maxPasses: options.maxPasses,
      });
    return await backupDataDir({
      dataDir: config.dataDir,
      store,
      jobs,
      failpoint,
      onProgress: options.onProgress,
      holdCollector: options.holdCollector,
      afterSnapshot: options.afterSnapshot,
      maxPasses: options.maxPasses,
    });
  } finally {
    await store.close();
  }
}

export interface RestoreBackupOptions {
  /** A directory, or s3://BUCKET/PREFIX reached with the S3 settings of the environment (STOWAGE_S3_*). */
  readonly source: string;
  /** The data directory to make: it must not exist yet, or be empty. */
  readonly dataDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly jobs?: number | undefined;
  readonly onProgress?: ((progress: RestoreProgress) => void) | undefined;
}

/** Makes a fresh data directory from a backup of the embedded deployment (see restoreBackup). */
export async function restoreDataDir(options: RestoreBackupOptions): Promise<RestoreReport> {
  const store = await openDestination(options.source, options.env);
  try {
    return await restoreBackup({
      store,
      dataDir: options.dataDir,
      jobs: options.jobs ?? DEFAULT_BACKUP_JOBS,
      onProgress: options.onProgress,
    });
  } finally {
    await store.close();
  }
}

async function openDestination(location: string, env: NodeJS.ProcessEnv): Promise<BackupStore> {
  if (!location.startsWith('s3://')) return openBackupStore(location, undefined);
  let s3: ReturnType<typeof parseS3Location>;
  try {
    s3 = parseS3Location(location, env);
  } catch (error) {
    throw new BackupError(`${location}: ${(error as Error).message}`, BackupExit.usage);
  }
  return openBackupStore(location, s3);
}

/** What a backup directory holds: a directory with anything else is not one. */
const BACKUP_ENTRIES = new Set(['manifest.json', 'index.sqlite', 'index.pgdump', 'secret.key', 'blobs', 'uploads', 'tmp']);

/** A directory destination must be new, empty, or a backup (finished or not): never a directory of other things. */
async function checkBackupDirectory(location: string): Promise<void> {
  const entries = await readdir(location).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const foreign = entries.filter((name) => !BACKUP_ENTRIES.has(name));
  if (foreign.length > 0)
    throw new BackupError(
      `${location} is not a backup (it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}): give a new or empty directory, or an earlier backup`,
      BackupExit.usage,
    );
}

/** A directory destination may not be the data directory, or lie inside it. */
function checkOutsideDataDir(dataDir: string, destination: string): void {
  const relative = path.relative(path.resolve(dataDir), destination);
  if (relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative)))
    throw new BackupError(`the backup cannot go into the data directory ${dataDir} itself: give a directory outside it`, BackupExit.usage);
}
