import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Sqlite, { type Database } from 'better-sqlite3';
import { SECRET_FILE } from '../../auth/server-secret.js';
import type { Failpoint } from '../../failpoints.js';
import { type NamedBlob, namedBlobsQuery } from '../blob-references.js';
import { BlobFiles } from '../fs/blob-files.js';
import { type GcHold, holdCollector } from '../fs/gc-holds.js';
import { blobReferenced, presentBlobReferences } from '../fs/index-db.js';
import { BackupError, BackupExit } from './backup-errors.js';
import { type BackupStore, DirectoryBackupStore } from './backup-store.js';
import { type BlobCopyProgress, type BlobSource, copyBlobs, type DamagedBlob } from './copy-blobs.js';
import { type BackupManifest, FORMAT, FORMAT_VERSION, MANIFEST, stowageVersion, writeManifest } from './manifest.js';

/** How long a hold on the collector lasts unless renewed: what a backup that was killed delays collection by, at most. */
const HOLD_LEASE_MS = 5 * 60_000;
const HOLD_RENEW_MS = 30_000;
/** Snapshots taken before giving up, when blobs a snapshot named keep going before they are copied. */
const DEFAULT_MAX_PASSES = 5;

export interface BackupProgress extends BlobCopyProgress {
  readonly phase: 'snapshot' | 'blobs' | 'uploads' | 'finishing';
  /** The snapshot being copied: 1, or more when blobs the one before named were gone before they were copied. */
  readonly pass: number;
  /** Blobs the snapshot names, and their bytes. */
  readonly blobs: number;
  readonly blobBytes: number;
}

export interface EmbeddedBackupOptions {
  readonly dataDir: string;
  readonly store: BackupStore;
  /** Blobs copied at once. */
  readonly jobs: number;
  readonly failpoint?: Failpoint | undefined;
  readonly onProgress?: ((progress: BackupProgress) => void) | undefined;
  /** False: leave the collector alone, so that only new snapshots cover blobs deleted meanwhile (tests). */
  readonly holdCollector?: boolean | undefined;
  /** Runs once each snapshot is taken, before its blobs are copied (tests). */
  readonly afterSnapshot?: ((pass: number) => Promise<void>) | undefined;
  readonly maxPasses?: number | undefined;
}

/** What a backup did, with the manifest it wrote. */
export interface BackupReport {
  readonly location: string;
  readonly manifest: BackupManifest;
  /** Blobs the index names that the data directory does not hold (fsck: missing-blob). */
  readonly missing: readonly string[];
  /** Blobs whose file is not the size their row gives (fsck: size-mismatch), copied as they are. */
  readonly damaged: readonly DamagedBlob[];
  readonly exitCode: number;
}

/**
 * Backs up a data directory while its server runs, without its lock:
 *
 * 1. removes the manifest at the destination, so that until this run finishes, nothing there
 *    passes for a finished backup;
 * 2. holds the server's garbage collector off (a row in the index, with a lease this process
 *    renews): replaced blobs then stay on disk until the backup is done;
 * 3. takes a consistent snapshot of the index with SQLite's online backup, in one step, i.e.
 *    one read transaction (WAL: the server's writes go on meanwhile);
 * 4. copies every blob the snapshot names, by id, skipping those the destination holds with the
 *    right size (blobs never change), and the part files of open resumable uploads;
 * 5. puts the snapshot in place as `index.sqlite`, then writes the manifest, last.
 *
 * Should a blob the snapshot names be gone before it was copied (a server that does not know the
 * hold, or a hold whose lease ran out), a new snapshot is taken and its blobs copied, those already
 * copied being skipped; up to `maxPasses` snapshots. A blob the live index still names but the
 * data directory lacks is damage (fsck reports it): the backup goes on without it and says so.
 */
export async function backupDataDir(options: EmbeddedBackupOptions): Promise<BackupReport> {
  const { store } = options;
  const dataDir = path.resolve(options.dataDir);
  const indexFile = path.join(dataDir, 'index.sqlite');
  if (!existsSync(indexFile)) throw new BackupError(`${dataDir} is not a Stowage data directory: it has no index.sqlite`, BackupExit.usage);
  const startedAt = new Date();
  const live = new Sqlite(indexFile, { fileMustExist: true });
  let hold: GcHold | undefined;
  let renewal: NodeJS.Timeout | undefined;
  let snapshotFile: string | undefined;
  try {
    live.pragma('busy_timeout = 5000');
    await store.remove(MANIFEST);
    await store.flush();
    if (store instanceof DirectoryBackupStore) await store.clearTemp();
    snapshotFile = path.join(await store.workDir(), `index-${process.pid}.sqlite`);
    if (options.holdCollector !== false) {
      hold = holdCollector(live, HOLD_LEASE_MS, 'stowage backup');
      const held = hold;
      renewal = setInterval(() => {
        // A renewal that fails (the index busy past its timeout) is tried again at the next tick;
        // should the lease run out meanwhile, a blob deleted in that time makes a new snapshot.
        try {
          held.renew();
        } catch {}
      }, HOLD_RENEW_MS);
    }
    // As the live index names blobs (one an older server serves may lack the newer tables).
    const stillNamed = blobReferenced(live);
    const maxPasses = options.maxPasses ?? DEFAULT_MAX_PASSES;
    const progress = (
      phase: BackupProgress['phase'],
      pass: number,
      totals: { blobs: number; blobBytes: number },
      copy?: BlobCopyProgress,
    ) => options.onProgress?.({ phase, pass, ...totals, ...(copy ?? { done: 0, doneBytes: 0, copied: 0, copiedBytes: 0 }) });
    const copied = { blobs: 0, bytes: 0 };
    for (let pass = 1; ; pass++) {
      progress('snapshot', pass, { blobs: 0, blobBytes: 0 });
      const snapshotAt = new Date();
      await snapshotIndex(live, snapshotFile);
      const snapshot = new Snapshot(snapshotFile);
      let finished = false;
      try {
        await options.afterSnapshot?.(pass);
        const totals = snapshot.blobTotals();
        progress('blobs', pass, totals);
        const result = await copyBlobs({
          blobs: snapshot.namedBlobs(),
          source: fileSource(dataDir),
          store,
          jobs: options.jobs,
          onProgress: (copy) => progress('blobs', pass, totals, copy),
          afterBlob: () => options.failpoint?.('backup.after-blob'),
        });
        copied.blobs += result.copied;
        copied.bytes += result.copiedBytes;
        const lost = result.missing.filter((id) => stillNamed.get(id) !== undefined);
        const collected = result.missing.length - lost.length;
        if (collected > 0) {
          if (pass >= maxPasses)
            throw new BackupError(
              `blobs named by each of ${pass} snapshots of the index were deleted before they could be copied (is the server's garbage collector held off? an older server does not know how); run the backup again`,
              BackupExit.failed,
            );
          continue;
        }
        progress('uploads', pass, totals, result);
        const uploads = await copyParts(dataDir, store, snapshot);
        const secretKey = await copySecret(dataDir, store);
        progress('finishing', pass, totals, result);
        const objects = snapshot.objectCount();
        snapshot.close();
        const index = await hashFile(snapshotFile);
        await store.adopt('index.sqlite', snapshotFile);
        await store.flush();
        const manifest: BackupManifest = {
          format: FORMAT,
          formatVersion: FORMAT_VERSION,
          stowageVersion: stowageVersion(),
          deployment: 'embedded',
          startedAt: startedAt.toISOString(),
          snapshotAt: snapshotAt.toISOString(),
          finishedAt: new Date().toISOString(),
          index: { entry: 'index.sqlite', ...index },
          objects,
          blobs: { count: totals.blobs, bytes: totals.blobBytes, copied: copied.blobs, copiedBytes: copied.bytes },
          uploads,
          secretKey,
          passes: pass,
          ...((lost.length > 0 || result.damaged.length > 0) && { damage: { missing: lost, sizeMismatch: result.damaged } }),
        };
        await writeManifest(store, manifest);
        finished = true;
        const damage = lost.length > 0 || result.damaged.length > 0;
        return {
          location: store.location,
          manifest,
          missing: lost,
          damaged: result.damaged,
          exitCode: damage ? BackupExit.damage : BackupExit.ok,
        };
      } finally {
        if (!finished) snapshot.close();
      }
    }
  } finally {
    clearInterval(renewal);
    try {
      hold?.release();
    } catch {
      // The index busy past its timeout: the hold ends with its lease instead.
    }
    live.close();
    if (snapshotFile) await rm(snapshotFile, { force: true });
  }
}

/**
 * SQLite's online backup of the live index into `file`, in one step: a step reads in one read
 * transaction, i.e. one consistent snapshot, while the server goes on writing (WAL). Steps of a
 * few pages each would start over whenever the server commits between two of them.
 */
async function snapshotIndex(live: Database, file: string): Promise<void> {
  await rm(file, { force: true });
  await live.backup(file, { progress: () => 0x7fffffff });
  // Everyone's data: as private as the data directory.
  await chmod(file, 0o600);
}

interface OpenSession {
  upload_id: string;
  received: number;
}

/** The copy of the index a backup holds, opened to read what it names and to fit it for a restore. */
class Snapshot {
  readonly db: Database;

  constructor(file: string) {
    this.db = new Sqlite(file, { fileMustExist: true });
    // One file, with no -wal beside it, whatever the live index uses.
    this.db.pragma('journal_mode = DELETE');
    // The hold taken for this backup is no hold on the server a restore starts.
    if (this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gc_holds'").get())
      this.db.exec('DELETE FROM gc_holds');
  }

  blobTotals(): { blobs: number; blobBytes: number } {
    const row = this.db
      .prepare(`SELECT count(*) AS blobs, coalesce(sum(size), 0) AS blobBytes FROM (${namedBlobsQuery(presentBlobReferences(this.db))})`)
      .get() as {
      blobs: number;
      blobBytes: number;
    };
    return row;
  }

  namedBlobs(): IterableIterator<NamedBlob> {
    return this.db.prepare(namedBlobsQuery(presentBlobReferences(this.db))).iterate() as IterableIterator<NamedBlob>;
  }

  objectCount(): number {
    return this.db.prepare('SELECT count(*) FROM objects').pluck().get() as number;
  }

  openSessions(): OpenSession[] {
    return this.db
      .prepare('SELECT upload_id, received FROM uploads WHERE completed_json IS NULL AND cancelled = 0 AND received > 0')
      .all() as OpenSession[];
  }

  /** The session's bytes could not be copied (it completed or was cancelled since): in the backup it starts over. */
  restartSession(uploadId: string): void {
    this.db.prepare('UPDATE uploads SET received = 0, hash_state = NULL WHERE upload_id = ?').run(uploadId);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Blob files of the data directory. An open file keeps its bytes even once the server removes it. */
function fileSource(dataDir: string): BlobSource {
  const files = new BlobFiles(dataDir, false);
  return {
    async open(blobId) {
      let handle: Awaited<ReturnType<typeof open>>;
      try {
        handle = await open(files.blobPath(blobId), 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      const { size } = await handle.stat();
      return { size, body: handle.createReadStream({ highWaterMark: 1024 * 1024 }) };
    },
  };
}

/**
 * The part files of the uploads open in the snapshot, each up to the offset the snapshot gives
 * (appends only add past it). A session whose part is gone or shorter by now (it completed or was
 * cancelled since) starts over from 0 in the backup: the client's status query then resends it.
 */
async function copyParts(dataDir: string, store: BackupStore, snapshot: Snapshot): Promise<{ count: number; bytes: number }> {
  const files = new BlobFiles(dataDir, false);
  const copied = { count: 0, bytes: 0 };
  for (const session of snapshot.openSessions()) {
    const entry = `uploads/${session.upload_id}`;
    if ((await store.size(entry)) === session.received) {
      copied.count++;
      copied.bytes += session.received;
      continue;
    }
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(files.partPath(session.upload_id), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (!handle || (await handle.stat()).size < session.received) {
      await handle?.close();
      snapshot.restartSession(session.upload_id);
      continue;
    }
    const body = handle.createReadStream({ start: 0, end: session.received - 1, highWaterMark: 1024 * 1024 });
    try {
      await store.write(entry, body, session.received);
    } finally {
      body.destroy();
    }
    copied.count++;
    copied.bytes += session.received;
  }
  return copied;
}

/** The data directory's server secret, when it has one: tokens, signed URLs and API keys need it. */
async function copySecret(dataDir: string, store: BackupStore): Promise<boolean> {
  const file = path.join(dataDir, SECRET_FILE);
  let bytes: Buffer;
  try {
    const handle = await open(file, 'r');
    try {
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  await store.write('secret.key', Readable.from([bytes]), bytes.length);
  return true;
}

async function hashFile(file: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), hash);
  return { bytes: (await stat(file)).size, sha256: hash.digest('hex') };
}
