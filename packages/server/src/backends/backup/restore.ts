import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Sqlite, { type Database } from 'better-sqlite3';
import { SECRET_FILE } from '../../auth/server-secret.js';
import { type NamedBlob, namedBlobsQuery } from '../blob-references.js';
import { BlobFiles, syncDirectory } from '../fs/blob-files.js';
import { lockDataDir } from '../fs/data-dir-lock.js';
import { presentBlobReferences } from '../fs/index-db.js';
import { BackupError, BackupExit } from './backup-errors.js';
import type { BackupStore } from './backup-store.js';
import { type BackupManifest, MANIFEST, readManifest } from './manifest.js';

export interface RestoreProgress {
  readonly phase: 'index' | 'blobs' | 'uploads' | 'finishing';
  /** Blobs the backup's index names, and their bytes. */
  readonly blobs: number;
  readonly blobBytes: number;
  /** Of those, restored so far. */
  readonly done: number;
  readonly doneBytes: number;
}

export interface RestoreOptions {
  readonly store: BackupStore;
  readonly dataDir: string;
  /** Blobs restored at once. */
  readonly jobs: number;
  /** Milliseconds since the epoch: upload sessions expired by then are left out. */
  readonly now?: number | undefined;
  readonly onProgress?: ((progress: RestoreProgress) => void) | undefined;
}

/** A value that the backup does not hold as its index says. */
export interface RestoreProblem {
  readonly blobId: string;
  readonly problem: string;
}

export interface RestoreReport {
  readonly dataDir: string;
  readonly location: string;
  readonly manifest: BackupManifest;
  readonly objects: number;
  /** Blobs restored and verified, and their bytes. */
  readonly blobs: { readonly count: number; readonly bytes: number };
  /** Part files of open uploads restored; `restarted`: sessions whose part was missing, set back to 0. */
  readonly uploads: { readonly count: number; readonly bytes: number; readonly restarted: number; readonly expired: number };
  readonly secretKey: boolean;
  /** Blobs missing from the backup, or not of the size and sha256 their row gives (restored as they are). */
  readonly problems: readonly RestoreProblem[];
  readonly exitCode: number;
}

/**
 * Makes a fresh data directory from a backup: refuses a directory that is not empty, holds the
 * data-directory lock while it works (no server can start on it half made), restores every blob
 * the backup's index names, checking each one's size and sha256 against its row (every row's
 * sha256 is of its whole value, multipart objects' too), the part files of open uploads, and the
 * server secret, and puts the index in place last. `stowage fsck` then finds the directory clean.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreReport> {
  const { store } = options;
  const manifest = await readManifest(store);
  if (!manifest)
    throw new BackupError(
      `${store.location} holds no finished backup: it has no ${MANIFEST} (a backup that was interrupted is finished by running stowage backup again)`,
      BackupExit.usage,
    );
  if (manifest.deployment !== 'embedded')
    throw new BackupError(
      `${store.location} is a backup of the PostgreSQL + S3 deployment (a pg_dump and the blobs): restore it with pg_restore as docs/deploy.md says (Backups and restores), not into a data directory`,
      BackupExit.usage,
    );
  const dataDir = path.resolve(options.dataDir);
  const present = await readdir(dataDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (present.length > 0)
    throw new BackupError(
      `${dataDir} is not empty: a backup is restored into a new data directory (or an empty one), never over another`,
      BackupExit.usage,
    );
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const lock = lockDataDir(dataDir, 'stowage restore-backup');
  try {
    const files = new BlobFiles(dataDir, true);
    await files.init();
    const indexTemp = path.join(files.tmpDir, `index-${process.pid}.sqlite`);
    const report = (phase: RestoreProgress['phase'], totals: { blobs: number; blobBytes: number }, done = { done: 0, doneBytes: 0 }) =>
      options.onProgress?.({ phase, ...totals, ...done });
    report('index', { blobs: 0, blobBytes: 0 });
    const index = await fetchEntry(store, 'index.sqlite', indexTemp);
    if (!index) throw new BackupError(`${store.location} has a manifest but no index.sqlite: the backup is damaged`, BackupExit.damage);
    if (index.sha256 !== manifest.index.sha256)
      throw new BackupError(
        `index.sqlite of ${store.location} hashes to ${index.sha256}, its manifest says ${manifest.index.sha256}: the backup is damaged`,
        BackupExit.damage,
      );
    const db = new Sqlite(indexTemp, { fileMustExist: true });
    let objects: number;
    let blobs: { count: number; bytes: number };
    let uploads: RestoreReport['uploads'];
    const problems: RestoreProblem[] = [];
    try {
      db.pragma('journal_mode = DELETE');
      // What the sweeper would remove at once: a restored directory starts without it.
      const expired = db.prepare('DELETE FROM uploads WHERE expires_at <= ?').run(options.now ?? Date.now()).changes;
      objects = db.prepare('SELECT count(*) FROM objects').pluck().get() as number;
      const totals = db
        .prepare(`SELECT count(*) AS blobs, coalesce(sum(size), 0) AS blobBytes FROM (${namedBlobsQuery(presentBlobReferences(db))})`)
        .get() as {
        blobs: number;
        blobBytes: number;
      };
      report('blobs', totals);
      blobs = await restoreBlobs(db, store, files, options.jobs, problems, (done) => report('blobs', totals, done));
      report('uploads', totals, { done: blobs.count, doneBytes: blobs.bytes });
      uploads = { ...(await restoreParts(db, store, files)), expired };
      report('finishing', totals, { done: blobs.count, doneBytes: blobs.bytes });
    } finally {
      db.close();
    }
    const secretKey = await restoreSecret(store, dataDir);
    // The index last: until it is there, nothing here passes for a data directory with data.
    await syncFile(indexTemp);
    await rename(indexTemp, path.join(dataDir, 'index.sqlite'));
    for (const dir of [...(await shardDirs(files)), files.blobDir, files.partDir, dataDir]) await syncDirectory(dir);
    return {
      dataDir,
      location: store.location,
      manifest,
      objects,
      blobs,
      uploads,
      secretKey,
      problems,
      exitCode: problems.length > 0 ? BackupExit.damage : BackupExit.ok,
    };
  } catch (error) {
    // Never a data directory with part of a backup in it that a server could start on unnoticed.
    const why = error instanceof Error ? error.message : String(error);
    throw new BackupError(
      `${why}\n${dataDir} holds part of the backup: remove it, then run restore-backup again`,
      error instanceof BackupError ? error.exitCode : BackupExit.failed,
    );
  } finally {
    lock.release();
  }
}

/** Streams entry `name` into `file` (flushed to disk), hashing it; undefined when the backup lacks it. */
async function fetchEntry(store: BackupStore, name: string, file: string): Promise<{ bytes: number; sha256: string } | undefined> {
  const body = await store.read(name);
  if (!body) return undefined;
  return copyHashed(body, file);
}

async function copyHashed(body: Readable, file: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  async function* hashed(source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
  }
  try {
    await pipeline(body, hashed, createWriteStream(file, { flags: 'w', mode: 0o600, flush: true, highWaterMark: 1024 * 1024 }));
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Every blob the index names, `jobs` at a time: written to tmp/, checked, then moved into blobs/. */
async function restoreBlobs(
  db: Database,
  store: BackupStore,
  files: BlobFiles,
  jobs: number,
  problems: RestoreProblem[],
  onProgress: (done: { done: number; doneBytes: number }) => void,
): Promise<{ count: number; bytes: number }> {
  const pending = (db.prepare(namedBlobsQuery(presentBlobReferences(db))).iterate() as IterableIterator<NamedBlob>)[Symbol.iterator]();
  const done = { done: 0, doneBytes: 0 };
  const restored = { count: 0, bytes: 0 };
  let failure: { error: unknown } | undefined;
  const take = (): NamedBlob | undefined => {
    if (failure) return undefined;
    const next = pending.next();
    return next.done ? undefined : next.value;
  };
  const worker = async () => {
    for (let blob = take(); blob; blob = take()) {
      try {
        const body = await store.read(`blobs/${blob.blob_id}`);
        if (!body) {
          problems.push({ blobId: blob.blob_id, problem: 'the backup does not hold this blob' });
        } else {
          const temp = files.tempPath(blob.blob_id);
          const got = await copyHashed(body, temp);
          if (got.bytes !== blob.size)
            problems.push({ blobId: blob.blob_id, problem: `the backup holds ${got.bytes} bytes, the index says ${blob.size}` });
          else if (got.sha256 !== blob.sha256)
            problems.push({ blobId: blob.blob_id, problem: `the bytes hash to ${got.sha256}, the index says ${blob.sha256}` });
          else {
            restored.count++;
            restored.bytes += got.bytes;
          }
          // Placed even when damaged, as the backup has it: fsck then reports it as it would have at the source.
          await mkdir(path.dirname(files.blobPath(blob.blob_id)), { recursive: true });
          await rename(temp, files.blobPath(blob.blob_id));
        }
        done.done++;
        done.doneBytes += blob.size;
        onProgress({ ...done });
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  } finally {
    pending.return?.();
  }
  if (failure) throw failure.error;
  return restored;
}

/**
 * The part files of open uploads, as the backup holds them (up to the session's offset). A
 * session whose part the backup lacks, or holds shorter, starts over from 0: its client's status
 * query then resends it.
 */
async function restoreParts(
  db: Database,
  store: BackupStore,
  files: BlobFiles,
): Promise<{ count: number; bytes: number; restarted: number }> {
  const sessions = db
    .prepare('SELECT upload_id, received FROM uploads WHERE completed_json IS NULL AND cancelled = 0 AND received > 0')
    .all() as Array<{ upload_id: string; received: number }>;
  const restart = db.prepare('UPDATE uploads SET received = 0, hash_state = NULL WHERE upload_id = ?');
  const restored = { count: 0, bytes: 0, restarted: 0 };
  for (const session of sessions) {
    const body = await store.read(`uploads/${session.upload_id}`);
    const part = files.partPath(session.upload_id);
    const got = body && (await copyHashed(body, part));
    if (!got || got.bytes < session.received) {
      await rm(part, { force: true });
      restart.run(session.upload_id);
      restored.restarted++;
      continue;
    }
    restored.count++;
    restored.bytes += got.bytes;
  }
  return restored;
}

async function restoreSecret(store: BackupStore, dataDir: string): Promise<boolean> {
  const body = await store.read('secret.key');
  if (!body) return false;
  const temp = path.join(dataDir, `${SECRET_FILE}.restoring`);
  await copyHashed(body, temp);
  await rename(temp, path.join(dataDir, SECRET_FILE));
  return true;
}

async function shardDirs(files: BlobFiles): Promise<string[]> {
  return (await readdir(files.blobDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.join(files.blobDir, entry.name));
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
