import { minimatch } from 'minimatch';

/** A file or object of one side of a sync, by its path relative to the synced folder. */
export interface SyncEntry {
  readonly size: number;
  /** Known for stored objects; computed on demand for local files. */
  readonly sha256?: string | undefined;
}

export interface SyncSide {
  readonly entries: ReadonlyMap<string, SyncEntry>;
  /** The sha256 of an entry whose entry does not carry one (a local file: read and hashed). */
  hash(relative: string): Promise<string>;
}

export interface SyncPlan {
  /** Source entries that the destination lacks or holds with other bytes, in path order. */
  readonly copy: ReadonlyArray<{ readonly relative: string; readonly size: number }>;
  /** Destination entries the source does not have (with --delete), in path order. */
  readonly remove: readonly string[];
  readonly unchanged: number;
  readonly excluded: number;
}

export interface SyncRules {
  readonly exclude: readonly string[];
  readonly deleteExtra: boolean;
  /** Same size means same content (no hashing). */
  readonly sizeOnly: boolean;
  /** Hashes at once, at most. */
  readonly jobs: number;
}

/**
 * `--exclude` patterns as globs over the relative path; a pattern without a slash matches a name
 * at any depth (`*.tmp`, `.DS_Store`), as in .gitignore.
 */
export function excluder(patterns: readonly string[]): (relative: string) => boolean {
  return (relative) => patterns.some((pattern) => minimatch(relative, pattern, { dot: true, matchBase: !pattern.includes('/') }));
}

/**
 * What makes the destination hold what the source holds: entries missing or different there are
 * copied (a different size, or with the same size a different sha256), and with `deleteExtra`
 * what the source lacks is removed. Excluded paths are neither copied nor removed.
 */
export async function planSync(source: SyncSide, destination: SyncSide, rules: SyncRules): Promise<SyncPlan> {
  const isExcluded = excluder(rules.exclude);
  let excluded = 0;
  const candidates: Array<{ relative: string; size: number; theirs: SyncEntry | undefined }> = [];
  for (const [relative, entry] of source.entries) {
    if (isExcluded(relative)) excluded++;
    else candidates.push({ relative, size: entry.size, theirs: destination.entries.get(relative) });
  }
  const differs = new Map<string, boolean>();
  let next = 0;
  const compare = async () => {
    for (let at = next++; at < candidates.length; at = next++) {
      const { relative, size, theirs } = candidates[at] as (typeof candidates)[number];
      if (!theirs || theirs.size !== size) differs.set(relative, true);
      else if (rules.sizeOnly) differs.set(relative, false);
      else {
        const [ours, other] = await Promise.all([shaOf(source, relative), shaOf(destination, relative)]);
        differs.set(relative, ours !== other);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, rules.jobs) }, compare));
  const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const copy = candidates.filter((c) => differs.get(c.relative)).map(({ relative, size }) => ({ relative, size }));
  const remove = rules.deleteExtra
    ? [...destination.entries.keys()].filter((relative) => !source.entries.has(relative) && !isExcluded(relative))
    : [];
  return {
    copy: copy.sort((a, b) => byPath(a.relative, b.relative)),
    remove: remove.sort(byPath),
    unchanged: candidates.length - copy.length,
    excluded,
  };
}

function shaOf(side: SyncSide, relative: string): Promise<string> {
  const known = side.entries.get(relative)?.sha256;
  return known ? Promise.resolve(known) : side.hash(relative);
}
