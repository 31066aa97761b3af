import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Sqlite, { type Database } from 'better-sqlite3';

/** Thrown when another process holds the data directory. */
export class DataDirInUseError extends Error {
  constructor(dataDir: string, owner: string | undefined) {
    super(
      `The data directory ${dataDir} is in use by another Stowage process${owner ? ` (${owner})` : ''}. ` +
        'Stop it first, or give this one its own --data-dir.',
    );
    this.name = 'DataDirInUseError';
  }
}

/** An exclusive hold on a data directory; release it when done. */
export interface DataDirLock {
  release(): void;
}

/**
 * Takes an exclusive lock on `dataDir`, or throws {@link DataDirInUseError} at once. Two servers
 * on one data dir would each remove the other's temp files and uncommitted blobs at start-up.
 *
 * The lock is an SQLite database held in an exclusive transaction: SQLite locks with POSIX
 * fcntl locks, which the kernel drops when the process dies (even by SIGKILL), so a crash never
 * leaves a stale lock behind, unlike a pid file or a lock directory.
 */
export function lockDataDir(dataDir: string, purpose: string): DataDirLock {
  const lockFile = path.join(dataDir, 'lock.sqlite');
  const ownerFile = path.join(dataDir, 'lock.owner');
  const db: Database = new Sqlite(lockFile, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw new DataDirInUseError(dataDir, readOwner(ownerFile));
    throw error;
  }
  writeFileSync(ownerFile, `pid ${process.pid}, ${purpose}, since ${new Date().toISOString()}\n`);
  return {
    release() {
      if (db.open) db.close();
    },
  };
}

/**
 * Whether a process holds `dataDir` now, and who (from `lock.owner`). A probe that takes nothing:
 * the holder's exclusive transaction refuses even a reader, and a read-only connection can never
 * keep a server from starting.
 */
export function dataDirHolder(dataDir: string): { held: false } | { held: true; owner: string | undefined } {
  let db: Database;
  try {
    db = new Sqlite(path.join(dataDir, 'lock.sqlite'), { readonly: true, fileMustExist: true, timeout: 0 });
  } catch {
    return { held: false }; // never locked: no server has run here yet
  }
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return { held: false };
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY'))
      return { held: true, owner: readOwner(path.join(dataDir, 'lock.owner')) };
    throw error;
  } finally {
    db.close();
  }
}

function readOwner(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}
