import {
  type BucketInfo,
  type KeptVersions,
  keptUnder,
  prefixRetentionDays,
  type VersionEntry,
  windowNewerVersions,
} from 'stowage-client/protocol';

/** An earlier value of a key that retention keeps, as the "Deleted items" view shows it. */
export interface KeptValue {
  key: string;
  versionId: string;
  size: number;
  /** Deleted: a delete came after it (or the key is gone); replaced: a newer value did. */
  change: 'deleted' | 'replaced';
  /** When it stopped being current. */
  at: string | null;
  purgeAfter: string | null;
  /** The key holds these very bytes now (a restore of it would change nothing). */
  sameAsNow: boolean;
}

/**
 * The earlier values in a listing of versions (by key, newest first, as `GET versions` answers):
 * every noncurrent version that holds a value, and what ended it. Current values and delete
 * markers themselves are not restorable and are left out.
 */
export function keptValues(versions: readonly VersionEntry[]): KeptValue[] {
  const kept: KeptValue[] = [];
  let now: VersionEntry | undefined;
  versions.forEach((version, i) => {
    const newer = i > 0 && versions[i - 1]?.key === version.key ? versions[i - 1] : undefined;
    // A key's newest entry is its value now, if it is current.
    if (!newer) now = version.current ? version : undefined;
    if (version.current || version.isDeleteMarker) return;
    kept.push({
      key: version.key,
      versionId: version.versionId,
      size: version.size,
      change: newer ? (newer.isDeleteMarker ? 'deleted' : 'replaced') : now ? 'replaced' : 'deleted',
      at: version.deletedAt,
      purgeAfter: version.purgeAfter,
      sameAsNow: now !== undefined && now.sha256 === version.sha256 && now.size === version.size,
    });
  });
  return kept;
}

/** How many days something deleted or replaced is kept: one number, or the least and most of the keys concerned. */
export interface KeptDays {
  readonly least: number;
  readonly most: number;
  /** The most of a key's newest earlier values that are kept past the days, until replaced (S3's NewerNoncurrentVersions). */
  readonly newest?: number;
}

/**
 * The days a bucket keeps what is deleted or replaced at `key` (`exact`), or under the folder
 * `key`, as its info says: its window (`retentionDays`), or the rules for the prefixes of those
 * keys, by the server's own rule (prefixRetentionDays). Undefined when not known: the built-in
 * buckets and `retentionDays: null` follow the server's STOWAGE_RETENTION, which clients are not told.
 */
export function keptDays(
  info: Pick<BucketInfo, 'retentionDays' | 'retentionRules'> | undefined,
  key: string,
  exact: boolean,
): KeptDays | undefined {
  const window = info?.retentionDays;
  if (typeof window !== 'number') return undefined;
  if (window === 0) return { least: 0, most: 0 };
  const rules = prefixRetentionDays(info?.retentionRules ?? []);
  const windowKept: KeptVersions = { days: window, newerVersions: windowNewerVersions(info?.retentionRules ?? []) };
  const at = (name: string) => keptUnder(rules.filter((rule) => name.startsWith(rule.prefix))) ?? windowKept;
  // Under a folder, the keys of each rule for a prefix inside it too.
  const inside = exact ? [] : rules.filter((rule) => rule.prefix.startsWith(key)).map((rule) => at(rule.prefix));
  const kept = [at(key), ...inside];
  const days = kept.map((each) => each.days);
  const newest = kept.flatMap((each) => (each.newerVersions === undefined ? [] : [each.newerVersions]));
  return { least: Math.min(...days), most: Math.max(...days), ...(newest.length > 0 ? { newest: Math.max(...newest) } : {}) };
}

/**
 * keptDays when known, else what the kept versions show: the least and most of their purge time
 * minus the time they stopped being current. Undefined: not known.
 */
export function retentionWindowDays(known: KeptDays | undefined, kept: readonly KeptValue[]): KeptDays | undefined {
  if (known) return known;
  const days = kept.flatMap((value) =>
    value.at && value.purgeAfter ? [(Date.parse(value.purgeAfter) - Date.parse(value.at)) / 86_400_000] : [],
  );
  return days.length === 0 ? undefined : { least: Math.min(...days), most: Math.max(...days) };
}

/**
 * "7 days", or "2 to 30 days" when keys differ, with what NewerNoncurrentVersions keeps longer:
 * "1 day (a key's 2 newest earlier values: until newer ones replace them)".
 */
export function formatKeptDays(days: KeptDays): string {
  if (days.newest === undefined) return formatDays(days);
  const newest =
    days.newest === 1
      ? "a key's newest earlier value: until a newer one replaces it"
      : `a key's ${days.newest} newest earlier values: until newer ones replace them`;
  return `${formatDays(days)} (${newest})`;
}

function formatDays(days: KeptDays): string {
  if (days.least === days.most) return formatWindow(days.least);
  const [least, most] = [formatWindow(days.least), formatWindow(days.most)];
  const [count, unit] = least.split(' ');
  // One unit once: "2 to 30 days", but "36 hours to 30 days".
  return most.endsWith(` ${unit}`) && unit !== 'day' ? `${count} to ${most}` : `${least} to ${most}`;
}

/** "7 days", "1.5 days", "36 hours". */
export function formatWindow(days: number): string {
  if (days < 2 && !Number.isInteger(days)) return `${Math.round(days * 24)} hours`;
  const rounded = Math.round(days * 10) / 10;
  return `${rounded} ${rounded === 1 ? 'day' : 'days'}`;
}

/** A version id short enough for a table: its random tail (ids start with their time, alike for close writes). */
export function shortVersion(versionId: string): string {
  return versionId.length > 10 ? `…${versionId.slice(-8)}` : versionId;
}

/** A `datetime-local` value (the reader's time zone) as an ISO instant; undefined when it is not a time. */
export function instantOf(local: string): string | undefined {
  const time = new Date(local);
  return local && !Number.isNaN(time.getTime()) ? time.toISOString() : undefined;
}
