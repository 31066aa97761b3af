import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { IndexConfig, S3Location } from '../../config.js';
import type { Failpoint } from '../../failpoints.js';
import { blobNamedQuery, type NamedBlob, namedBlobsQuery } from '../blob-references.js';
import { checkSchemaName, clientConfig, connectOnce, parseTarget, quoteIdent } from '../postgres/pg-connect.js';
import { S3Bucket } from '../s3/s3-bucket.js';
import { createS3Client, DEFAULT_TIMEOUT_MS } from '../s3/s3-client.js';
import { S3Layout } from '../s3/s3-layout.js';
import { BackupError, BackupExit } from './backup-errors.js';
import { type BackupStore, DirectoryBackupStore } from './backup-store.js';
import { type BlobSource, copyBlobs } from './copy-blobs.js';
import type { BackupProgress, BackupReport } from './embedded-backup.js';
import { type BackupManifest, FORMAT, FORMAT_VERSION, MANIFEST, stowageVersion, writeManifest } from './manifest.js';

type PgIndexConfig = Extract<IndexConfig, { kind: 'postgres' }>;

const DEFAULT_MAX_PASSES = 3;

export interface PgBackupOptions {
  readonly index: PgIndexConfig;
  readonly blobs: S3Location;
  readonly store: BackupStore;
  readonly jobs: number;
  /** Where to find pg_dump (PATH), and libpq's settings. */
  readonly env: NodeJS.ProcessEnv;
  readonly failpoint?: Failpoint | undefined;
  readonly onProgress?: ((progress: BackupProgress) => void) | undefined;
  readonly maxPasses?: number | undefined;
}

/** The procedure of docs/deploy.md (Backups and restores), as commands to run by hand, in order. */
export function pgBackupCommands(index: PgIndexConfig, blobs: S3Location, destination: string): string {
  const target = parseTarget(index.url);
  const url = `postgres://${encodeURIComponent(target.user)}@${target.host}:${target.port}/${encodeURIComponent(target.database)}`;
  const schema = index.schema === 'public' ? '' : ` --schema=${index.schema}`;
  const source = `s3://${blobs.bucket}${blobs.prefix ? `/${blobs.prefix}` : ''}/blobs`;
  const endpoint = blobs.endpoint ? ` --endpoint-url ${blobs.endpoint}` : '';
  const dest = destination.replace(/\/+$/, '');
  return [
    '# 1. the index first: a consistent snapshot while the servers run (PGPASSWORD holds the password)',
    `pg_dump --format=custom${schema} --file=index.pgdump "${url}"`,
    '# 2. then the blobs: every blob the dump names was in the bucket before the dump began',
    `aws s3 sync${endpoint} ${source} ${dest}/blobs`,
    `#    (STOWAGE_REPLACED_BLOB_GRACE must outlast steps 1 and 2, or blobs the dump names may be deleted before they are copied)`,
  ].join('\n');
}

/** pg_dump on the PATH, or undefined. */
export function findPgDump(env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'pg_dump');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/**
 * Backs up the scale-out deployment, in the order docs/deploy.md gives: the index first, then the
 * blobs. The index is dumped by pg_dump from a snapshot exported by a transaction of this process,
 * and the blobs to copy are read in that same snapshot: exactly those the dump names. They are
 * copied from the bucket by id, skipping those the destination holds with the right size. A blob
 * deleted since (an overwrite, once STOWAGE_REPLACED_BLOB_GRACE passed) makes a new dump; one that
 * the index still names but the bucket lacks is damage, and the backup goes on without it.
 */
export async function backupPostgres(options: PgBackupOptions): Promise<BackupReport> {
  const { store, index } = options;
  const pgDump = findPgDump(options.env);
  if (!pgDump)
    throw new BackupError(
      `pg_dump is not on the PATH: install PostgreSQL's client programs (the version of the server or newer), or run the documented procedure by hand:\n${pgBackupCommands(index, options.blobs, store.location)}`,
      BackupExit.usage,
    );
  const schema = checkSchemaName(index.schema);
  const target = parseTarget(index.url);
  const startedAt = new Date();
  const client = await connectOnce(
    {
      ...clientConfig({ connectionString: index.url, statementTimeoutMs: 0 }, schema),
      // The snapshot stays open, idle, while pg_dump reads it.
      idle_in_transaction_session_timeout: 0,
      query_timeout: undefined,
      application_name: 'stowage backup',
    },
    target,
  );
  const bucket = new S3Bucket(
    createS3Client({ ...options.blobs, timeoutMs: DEFAULT_TIMEOUT_MS }),
    options.blobs.bucket,
    DEFAULT_TIMEOUT_MS,
  );
  const layout = new S3Layout(options.blobs.prefix);
  const source: BlobSource = {
    async open(blobId) {
      const got = await bucket.get(layout.blobKey(blobId));
      if (!got) return undefined;
      return { size: got.length ?? 0, body: got.body };
    },
  };
  let dumpFile: string | undefined;
  try {
    await store.remove(MANIFEST);
    await store.flush();
    if (store instanceof DirectoryBackupStore) await store.clearTemp();
    dumpFile = path.join(await store.workDir(), `index-${process.pid}.pgdump`);
    const maxPasses = options.maxPasses ?? DEFAULT_MAX_PASSES;
    const copied = { blobs: 0, bytes: 0 };
    for (let pass = 1; ; pass++) {
      const progress = (
        phase: BackupProgress['phase'],
        totals: { blobs: number; blobBytes: number },
        copy = { done: 0, doneBytes: 0, copied: 0, copiedBytes: 0 },
      ) => options.onProgress?.({ phase, pass, ...totals, ...copy });
      progress('snapshot', { blobs: 0, blobBytes: 0 });
      const snapshotAt = new Date();
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      let blobs: NamedBlob[];
      let objects: number;
      try {
        const snapshotId = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]?.id as string;
        blobs = (await client.query<NamedBlob>(namedBlobsQuery())).rows;
        objects = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM objects')).rows[0]?.n ?? 0);
        await runPgDump(pgDump, { url: index.url, schema, snapshotId, file: dumpFile, env: options.env, password: target.password });
      } finally {
        await client.query('COMMIT').catch(() => {});
      }
      const totals = { blobs: blobs.length, blobBytes: blobs.reduce((sum, blob) => sum + blob.size, 0) };
      progress('blobs', totals);
      const result = await copyBlobs({
        blobs,
        source,
        store,
        jobs: options.jobs,
        onProgress: (copy) => progress('blobs', totals, copy),
        afterBlob: () => options.failpoint?.('backup.after-blob'),
      });
      copied.blobs += result.copied;
      copied.bytes += result.copiedBytes;
      const lost: string[] = [];
      for (const id of result.missing) {
        const named = await client.query(
          `SELECT 1 FROM (SELECT $1::text AS blob) AS probe WHERE EXISTS (${blobNamedQuery('probe.blob')})`,
          [id],
        );
        if (named.rowCount) lost.push(id);
      }
      if (result.missing.length > lost.length) {
        if (pass >= maxPasses)
          throw new BackupError(
            `blobs named by each of ${pass} dumps of the index were deleted before they could be copied: set STOWAGE_REPLACED_BLOB_GRACE on every server longer than a backup takes (docs/deploy.md), then run the backup again`,
            BackupExit.failed,
          );
        continue;
      }
      progress('finishing', totals, result);
      const indexEntry = await hashFile(dumpFile);
      await store.adopt('index.pgdump', dumpFile);
      await store.flush();
      const manifest: BackupManifest = {
        format: FORMAT,
        formatVersion: FORMAT_VERSION,
        stowageVersion: stowageVersion(),
        deployment: 'postgres',
        startedAt: startedAt.toISOString(),
        snapshotAt: snapshotAt.toISOString(),
        finishedAt: new Date().toISOString(),
        index: { entry: 'index.pgdump', ...indexEntry },
        objects,
        blobs: { count: totals.blobs, bytes: totals.blobBytes, copied: copied.blobs, copiedBytes: copied.bytes },
        uploads: { count: 0, bytes: 0 },
        secretKey: false,
        passes: pass,
        ...((lost.length > 0 || result.damaged.length > 0) && { damage: { missing: lost, sizeMismatch: result.damaged } }),
      };
      await writeManifest(store, manifest);
      return {
        location: store.location,
        manifest,
        missing: lost,
        damaged: result.damaged,
        exitCode: lost.length > 0 || result.damaged.length > 0 ? BackupExit.damage : BackupExit.ok,
      };
    }
  } finally {
    await client.end().catch(() => {});
    bucket.client.destroy();
    if (dumpFile) await rm(dumpFile, { force: true });
  }
}

/** pg_dump of the schema, from the snapshot `snapshotId`; the password goes by the environment, not the command line. */
async function runPgDump(
  pgDump: string,
  options: { url: string; schema: string; snapshotId: string; file: string; env: NodeJS.ProcessEnv; password: string | undefined },
): Promise<void> {
  const url = new URL(options.url);
  url.password = '';
  const args = ['--format=custom', `--snapshot=${options.snapshotId}`, `--file=${options.file}`, '--no-password'];
  // The whole database when the index is in `public`, as docs/deploy.md dumps it; else its schema.
  if (options.schema !== 'public') args.push(`--schema=${quoteIdent(options.schema)}`);
  args.push(`--dbname=${url.href}`);
  const env = { ...options.env, ...(options.password !== undefined && { PGPASSWORD: options.password }) };
  const child = spawn(pgDump, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new BackupError(`pg_dump failed (exit code ${code}): ${stderr.trim()}`, BackupExit.failed);
}

async function hashFile(file: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), hash);
  return { bytes: (await stat(file)).size, sha256: hash.digest('hex') };
}
