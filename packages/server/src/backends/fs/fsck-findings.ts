/**
 * What `stowage fsck` can find, how bad each kind is, and the exit code a report maps to.
 *
 * `damage`: a stored object is unreadable or wrong, or the index itself is corrupt. Never
 * repaired silently: the row stays (GET fails) unless `--drop-missing` / `--drop-damaged` say
 * otherwise. `leftover`: what a crash or an interrupted upload leaves behind and the server copes
 * with on its own (start-up cleanup, the sweeper, offset reconciliation), or recorded usage that
 * disagrees with the objects, or versions' key and purge orders that disagree with the versions;
 * no stored object is affected, and `--repair` removes, resets or recomputes it.
 */
export const FINDING_SEVERITY = {
  'index-corrupt': 'damage',
  'missing-blob': 'damage',
  'size-mismatch': 'damage',
  'sha256-mismatch': 'damage',
  'orphan-blob': 'leftover',
  'temp-file': 'leftover',
  'stale-part': 'leftover',
  'short-part': 'leftover',
  'expired-session': 'leftover',
  'usage-drift': 'leftover',
  'version-order-drift': 'leftover',
} as const;

export type FindingKind = keyof typeof FINDING_SEVERITY;
export type Severity = (typeof FINDING_SEVERITY)[FindingKind];

/** One problem, with where it is and, after `--repair`, what was done about it. */
export interface FsckFinding {
  readonly kind: FindingKind;
  readonly severity: Severity;
  /** Path relative to the data directory. */
  readonly file?: string;
  readonly object?: { readonly tenant: string; readonly type: string; readonly key: string };
  readonly uploadId?: string;
  readonly message: string;
  /** What `--repair` did; absent when the finding is left as it is. */
  repaired?: string;
}

/** Exit codes of `stowage fsck`, from what remains unrepaired (the worst kind wins). */
export const FsckExit = {
  /** Nothing found, or everything found was repaired. */
  clean: 0,
  /** Only leftovers: no stored object is affected. */
  leftovers: 1,
  /** Bad flags (the CLI's usage code). */
  usage: 2,
  /** Damage: objects whose value is missing or wrong, or a corrupt index. */
  damage: 3,
  /** fsck could not run: no data directory, a server holds it (for --repair), an I/O error. */
  failed: 4,
} as const;

/** What was looked at, for the summary line. */
export interface FsckCounts {
  objects: number;
  blobs: number;
  bytesHashed: number;
  sessions: number;
  partFiles: number;
  tempFiles: number;
}

export interface FsckReport {
  readonly dataDir: string;
  /** A server held the data directory: files of writes in flight were not counted as findings. */
  readonly serverRunning: boolean;
  readonly repair: boolean;
  readonly quick: boolean;
  readonly checked: FsckCounts;
  readonly findings: readonly FsckFinding[];
  /** What the reader should know about the run itself (a live server, checks skipped). */
  readonly notes: readonly string[];
  readonly summary: { damage: number; leftovers: number; repaired: number; unresolved: number };
  readonly exitCode: number;
}

export function summarize(findings: readonly FsckFinding[]): FsckReport['summary'] & { exitCode: number } {
  const unresolved = findings.filter((finding) => finding.repaired === undefined);
  const exitCode = unresolved.some((finding) => finding.severity === 'damage')
    ? FsckExit.damage
    : unresolved.length > 0
      ? FsckExit.leftovers
      : FsckExit.clean;
  return {
    damage: findings.filter((finding) => finding.severity === 'damage').length,
    leftovers: findings.filter((finding) => finding.severity === 'leftover').length,
    repaired: findings.length - unresolved.length,
    unresolved: unresolved.length,
    exitCode,
  };
}
