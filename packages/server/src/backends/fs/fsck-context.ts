import type { Stats } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { BlobFiles } from './blob-files.js';
import { FINDING_SEVERITY, type FsckCounts, type FsckFinding } from './fsck-findings.js';

/** What `--repair` may do beyond the always-safe repairs of leftovers. */
export interface RepairOptions {
  /** Delete index rows whose blob file is missing (GET then answers 404 instead of failing). */
  readonly dropMissing: boolean;
  /** Delete index rows whose value has the wrong size or sha256, keeping the bytes in lost+found/. */
  readonly dropDamaged: boolean;
}

/** What every check works with: the index, the file layout, the clock and the findings so far. */
export interface FsckContext {
  readonly dataDir: string;
  readonly db: Database;
  readonly files: BlobFiles;
  readonly now: number;
  readonly quick: boolean;
  /** Undefined for a read-only check, and when the index is corrupt (a file it does not list may be data). */
  readonly repair: RepairOptions | undefined;
  readonly counts: FsckCounts;
  readonly findings: FsckFinding[];
  /**
   * False for what a live server may still be working on (a write in flight, a blob between its
   * rename and the index commit, a session the sweeper has yet to reach): only what has been
   * still for a while counts as a leftover then.
   */
  settled(changedAt: number): boolean;
}

/** Records a finding; its severity follows from its kind. */
export function addFinding(ctx: FsckContext, finding: Omit<FsckFinding, 'severity'>): FsckFinding {
  const { kind, ...rest } = finding;
  const full: FsckFinding = { kind, severity: FINDING_SEVERITY[kind], ...rest };
  ctx.findings.push(full);
  return full;
}

export function relativeTo(ctx: FsckContext, file: string): string {
  return path.relative(ctx.dataDir, file);
}

/** The file's stats, or undefined when it does not exist. */
export async function statIfExists(file: string): Promise<Stats | undefined> {
  try {
    return await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** When a file last changed: a rename or a new hard link moves ctime, not mtime. */
export function changedAt(stats: Stats): number {
  return Math.max(stats.mtimeMs, stats.ctimeMs);
}

/** Removes a leftover file when repairing; records what was done. */
export async function removeLeftover(ctx: FsckContext, finding: FsckFinding, file: string): Promise<void> {
  if (!ctx.repair) return;
  await rm(file, { force: true, recursive: true });
  finding.repaired = 'removed';
}
