import type { PurgeSchedule } from './purge-schedule.js';

/**
 * How long a version that NewerNoncurrentVersions keeps past its purge instant waits before the
 * sweeper looks at it again: S3 evaluates lifecycle rules once a day, and so a version pushed out
 * of its key's newest goes within a day, as one whose rule went away does.
 */
export const KEPT_NEWER_RECHECK_MS = 86_400_000;

/** The purge schedules the sweeper has resolved, by tenant and type (NewerNoncurrentVersions lives in them). */
export interface KeptNewer {
  /** The schedule of a tenant's type; undefined when not resolved yet: its due versions wait for the next round. */
  scheduleOf(tenant: string, type: string): PurgeSchedule | undefined;
}

/** What a key holds beside a due version, as an index reads it in the purge's transaction. */
export interface KeyVersionsBeside {
  /** Versions of the key newer than the due one, delete markers included. */
  readonly newer: number;
  /** Whether the key has a row in objects: a current value (or a delete kept in place, below). */
  readonly hasRow: boolean;
  /** Whether that row is a delete kept in place: a noncurrent value under a current delete marker. */
  readonly keptInPlace: boolean;
  /** Whether the newest version is a delete marker newer than the due one. */
  readonly newestIsNewerMarker: boolean;
}

/**
 * How many noncurrent versions of its key are newer than a due one. A delete marker that is the
 * key's newest version while no row is current is the key's current state, not a noncurrent
 * version; a delete kept in place is a noncurrent value (its marker is current).
 */
export function noncurrentNewer(beside: KeyVersionsBeside): number {
  const currentMarker = !beside.hasRow && beside.newestIsNewerMarker ? 1 : 0;
  return beside.newer + (beside.keptInPlace ? 1 : 0) - currentMarker;
}

/**
 * How many of its key's newest noncurrent versions a due version's schedule keeps: undefined when
 * none (it goes), 'wait' when its schedule is not resolved yet.
 */
export function keptNewerOf(keptNewer: KeptNewer, version: { tenant: string; type: string; key: Buffer }): number | undefined | 'wait' {
  const schedule = keptNewer.scheduleOf(version.tenant, version.type);
  return schedule === undefined ? 'wait' : schedule.keptNewerAt(version.key);
}

/** Whether a due version is one of the `keep` newest noncurrent versions of its key: held, not purged. */
export function heldByCount(keep: number, beside: KeyVersionsBeside): boolean {
  return noncurrentNewer(beside) < keep;
}
