import { existsSync } from 'node:fs';
import path from 'node:path';
import Sqlite, { type Database } from 'better-sqlite3';
import { BlobFiles } from './blob-files.js';
import { dataDirHolder, lockDataDir } from './data-dir-lock.js';
import type { FsckContext } from './fsck-context.js';
import { checkOrphanBlobs, checkTempFiles } from './fsck-files.js';
import { type FsckCounts, type FsckFinding, type FsckReport, summarize } from './fsck-findings.js';
import { checkObjects } from './fsck-objects.js';
import { checkPartFiles, checkUploadSessions } from './fsck-uploads.js';
import { checkUsage } from './fsck-usage.js';
import { checkVersionOrders } from './fsck-versions.js';

export interface FsckOptions {
  readonly dataDir: string;
  /** Fix what is safe (leftovers); needs the data directory to itself, like a server. */
  readonly repair?: boolean;
  /** With `repair`: delete rows whose blob file is missing. */
  readonly dropMissing?: boolean;
  /** With `repair`: delete rows whose value is damaged, moving the bytes to lost+found/. */
  readonly dropDamaged?: boolean;
  /** Skip hashing values and use SQLite's quick_check: minutes become seconds on a big store. */
  readonly quick?: boolean;
  /** Milliseconds since the epoch (session expiry); injectable for tests. */
  readonly now?: number;
}

/** Beside a live server, files and sessions younger than this may be work in flight. */
export const LIVE_GRACE_MS = 10 * 60_000;

/** fsck could not run at all (as opposed to finding problems). */
export class FsckError extends Error {
  override name = 'FsckError';
}

/**
 * Checks a data directory: the index's own integrity, every object row against its value, the
 * files no row references, temp files, and upload sessions against their part files.
 *
 * Read-only, it runs beside a live server (SQLite WAL readers see a consistent snapshot; what a
 * server may be writing right now is not counted). With `repair` it takes the data-dir lock, so
 * it refuses to run while a server holds the directory (and a server refuses to start meanwhile).
 */
export async function fsck(options: FsckOptions): Promise<FsckReport> {
  const dataDir = path.resolve(options.dataDir);
  const indexFile = path.join(dataDir, 'index.sqlite');
  if (!existsSync(indexFile)) throw new FsckError(`${dataDir} is not a Stowage data directory: it has no index.sqlite`);
  if ((options.dropMissing || options.dropDamaged) && !options.repair)
    throw new FsckError('--drop-missing and --drop-damaged need --repair');
  const lock = options.repair ? lockDataDir(dataDir, 'stowage fsck --repair') : undefined;
  const db = new Sqlite(indexFile, { readonly: !options.repair, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    if (options.repair) db.pragma('synchronous = FULL');
    return await checkDataDir(db, dataDir, options, lock === undefined && dataDirHolder(dataDir).held);
  } finally {
    db.close();
    lock?.release();
  }
}

async function checkDataDir(db: Database, dataDir: string, options: FsckOptions, serverRunning: boolean): Promise<FsckReport> {
  const now = options.now ?? Date.now();
  const counts: FsckCounts = { objects: 0, blobs: 0, bytesHashed: 0, sessions: 0, partFiles: 0, tempFiles: 0 };
  const findings: FsckFinding[] = [];
  const notes: string[] = [];
  const integrity = checkIntegrity(db, options.quick === true);
  for (const problem of integrity) findings.push({ kind: 'index-corrupt', severity: 'damage', file: 'index.sqlite', message: problem });
  if (serverRunning) {
    notes.push(
      `a server is running on this data directory: what changed in the last ${LIVE_GRACE_MS / 60_000} minutes may be work in flight and is not counted`,
    );
  }
  if (integrity.length > 0) {
    notes.push(
      'the index is corrupt: nothing else was checked or repaired (restore index.sqlite from a backup, or recover it with sqlite3 .recover)',
    );
  } else {
    const ctx: FsckContext = {
      dataDir,
      db,
      files: new BlobFiles(dataDir, false),
      now,
      quick: options.quick === true,
      repair: options.repair ? { dropMissing: options.dropMissing === true, dropDamaged: options.dropDamaged === true } : undefined,
      counts,
      findings,
      settled: (changedAt) => !serverRunning || changedAt <= now - LIVE_GRACE_MS,
    };
    await checkObjects(ctx);
    await checkOrphanBlobs(ctx);
    await checkTempFiles(ctx);
    await checkUploadSessions(ctx);
    await checkPartFiles(ctx);
    checkVersionOrders(ctx);
    const usageNote = checkUsage(ctx);
    if (usageNote) notes.push(usageNote);
  }
  const { exitCode, ...summary } = summarize(findings);
  return {
    dataDir,
    serverRunning,
    repair: options.repair === true,
    quick: options.quick === true,
    checked: counts,
    findings,
    notes,
    summary,
    exitCode,
  };
}

/** SQLite's own check of the index file: pages, b-trees, indexes against their tables. */
function checkIntegrity(db: Database, quick: boolean): string[] {
  let lines: Array<Record<string, string>>;
  try {
    lines = db.pragma(quick ? 'quick_check' : 'integrity_check', { simple: false }) as Array<Record<string, string>>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return [(error as Error).message];
    throw error;
  }
  const problems = lines.map((line) => String(Object.values(line)[0]));
  return problems.length === 1 && problems[0] === 'ok' ? [] : problems;
}
