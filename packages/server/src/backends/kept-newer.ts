import type { CountRule, PurgeSchedule } from './purge-schedule.js';

/**
 * How long a version that NewerNoncurrentVersions keeps past its purge instant waits before the
 * sweeper looks at it again: S3 evaluates lifecycle rules once a day, and so a version pushed out
 * of its key's newest goes within a day, as one whose rule went away does.
 */
export const KEPT_NEWER_RECHECK_MS = 86_400_000;

/** The purge schedules the sweeper has resolved, by tenant and type (their count rules: PurgeSchedule.countRulesAt). */
export interface KeptNewer {
  /** The schedule of a tenant's type; undefined when not resolved yet: its due versions wait for the next round. */
  scheduleOf(tenant: string, type: string): PurgeSchedule | undefined;
}

/** What a key holds beside a due version, as an index reads it in the purge's transaction. */
export interface KeyVersionsBeside {
  /** Versions of the key newer than the due one, delete markers included, counted up to the weighing's countCap. */
  readonly newer: number;
  /** Whether the key has a row in objects: a current value (or a delete kept in place, below). */
  readonly hasRow: boolean;
  /** Whether that row is a delete kept in place: a noncurrent value under a current delete marker. */
  readonly keptInPlace: boolean;
  /** Whether the newest version is a delete marker newer than the due one. */
  readonly newestIsNewerMarker: boolean;
  /** Whether the key has versions older than the due one. */
  readonly older: boolean;
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

/** A due version, as a purge reads it. */
export interface DueVersion {
  readonly tenant: string;
  readonly type: string;
  readonly key: Buffer;
  /** When it stopped being current. */
  readonly stoppedAt: number;
  readonly deleteMarker: boolean;
}

/**
 * The rules a due version is weighed by (PurgeSchedule.countRulesAt): undefined when none keeps
 * versions by count (it goes), 'wait' when its schedule is not resolved yet.
 */
export function countRulesOf(keptNewer: KeptNewer, version: DueVersion): readonly CountRule[] | undefined | 'wait' {
  const schedule = keptNewer.scheduleOf(version.tenant, version.type);
  return schedule === undefined ? 'wait' : schedule.countRulesAt(version.key);
}

/**
 * The most newer versions a weighing needs to count: past the largest count, more change
 * nothing (an index counts no further, whatever a key holds).
 */
export function countCap(rules: readonly CountRule[]): number {
  return Math.max(...rules.map((rule) => rule.newer)) + 1;
}

/**
 * Whether a due version stays (held until the next look): no rule covering its key lets it go,
 * each weighed on its own as on S3: its days passed since it stopped being current, and at least
 * its count of newer noncurrent versions of the key exist. A lone delete marker is never held.
 */
export function heldByRules(rules: readonly CountRule[], version: DueVersion, now: number, beside: KeyVersionsBeside): boolean {
  // A delete marker left as its key's only version hides nothing: it goes at its time (and sooner
  // by ExpiredObjectDeleteMarker), whatever a count would keep.
  if (version.deleteMarker && beside.newer === 0 && !beside.hasRow && !beside.keptInPlace && !beside.older) return false;
  const newer = noncurrentNewer(beside);
  return !rules.some((rule) => version.stoppedAt + rule.ms <= now && newer >= rule.newer);
}
